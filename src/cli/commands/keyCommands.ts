import type { Command } from 'commander';
import { userIdOfStream } from '../../domain/twoFactor/decider.ts';
import type { EventStore } from '../../eventStore/eventStore.ts';
import { isDataKeyId } from '../../keys/userKeys.ts';
import { parseId } from '../arguments.ts';
import { type CliContext, examples } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';
import { printable } from '../lineOutput.ts';
import { progressReporter } from '../progress.ts';

type KeyRow = {
  keyId: string;
  configured: boolean;
  /** users' data keys wrapped by this instance key */
  dataKeys: number;
  /** TOTP secrets sealed with it directly (written before data keys) */
  secrets: number;
  /** recovery-code sets peppered with it (issued before data keys) */
  recoveryCodeSets: number;
  /** users whose stored data needs it and cannot have it */
  unusable: number;
  /** nothing stored needs it any more: it can leave SECRET_ENCRYPTION_KEYS */
  removable: boolean;
};

const HELP = `${examples('twofactor keys status', 'twofactor keys status --json')}
Counts, per instance key id, the users' data keys it wraps, and what was written before
data keys and still needs it directly: TOTP secrets sealed with it and recovery-code sets
peppered with it. REMOVABLE says whether nothing stored needs the key any more, so it can
leave SECRET_ENCRYPTION_KEYS (after 'twofactor keys rotate', and 'keys migrate' for older
data). Exits ${EXIT.failure} when some stored data needs a key that is missing (or is not the key its id
names): add that key back before users are affected. Prints key ids only, never a key.
`;

/** `twofactor keys …`: what the stored data needs of the instance key ring. */
export function registerKeyCommands(program: Command, context: CliContext): void {
  const keys = program.command('keys').description('the instance key ring and what stored data needs of it');
  keys
    .command('status')
    .description(
      'per key id: stored secrets and recovery-code sets that depend on it, and whether it is usable',
    )
    .option('--json', 'print as JSON')
    .addHelpText('after', HELP)
    .action(async (options: { json?: boolean }) => {
      const session = context.session();
      const configured = (session.config().encryptionKeys ?? []).map((key) => key.id);
      const runtime = await session.runtime();
      const userIds = await usersInLog(runtime.store);
      const emptyRow = (keyId: string, configured: boolean): KeyRow => ({
        keyId,
        configured,
        dataKeys: 0,
        secrets: 0,
        recoveryCodeSets: 0,
        unusable: 0,
        removable: true,
      });
      const rows = new Map<string, KeyRow>(configured.map((keyId) => [keyId, emptyRow(keyId, true)]));
      const row = (keyId: string) => {
        let found = rows.get(keyId);
        if (found === undefined) {
          found = emptyRow(keyId, false);
          rows.set(keyId, found);
        }
        return found;
      };
      for (const [keyId, census] of await runtime.keys.census()) {
        row(keyId).dataKeys += census.dataKeys;
        row(keyId).unusable += census.dataKeys - census.usable;
      }
      let unpeppered = 0;
      const affectedUsers = new Set<string>();
      for (const userId of userIds) {
        const use = await runtime.service.keyUse(userId);
        for (const keyId of use.sealedWith) if (!isDataKeyId(keyId)) row(keyId).secrets++;
        if (use.recoveryCodes === 'unpeppered') unpeppered++;
        else if (use.recoveryCodes !== 'none' && !isDataKeyId(use.recoveryCodes))
          row(use.recoveryCodes).recoveryCodeSets++;
        if (use.unusable.length > 0) affectedUsers.add(userId);
        // Data keys that do not unwrap are counted by the census above; here what needs a key directly.
        for (const keyId of use.unusable) {
          if (isDataKeyId(keyId)) continue;
          if (use.sealedWith.includes(keyId) || use.recoveryCodes === keyId) row(keyId).unusable++;
        }
      }
      for (const k of rows.values()) k.removable = k.dataKeys + k.secrets + k.recoveryCodeSets === 0;
      const report = {
        sealingKey: configured[0] ?? null,
        keys: [...rows.values()],
        users: userIds.size,
        usersAffected: affectedUsers.size,
        unpepperedRecoveryCodeSets: unpeppered,
      };
      if (options.json) {
        context.io.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const lines = [
          `${'KEY'.padEnd(16)}  ${'CONFIGURED'.padEnd(10)}  ${'DATA KEYS'.padStart(9)}  ${'SECRETS'.padStart(8)}  ${'CODE SETS'.padStart(9)}  ${'UNUSABLE'.padStart(8)}  REMOVABLE`,
          ...report.keys.map(
            (k) =>
              `${printable(k.keyId).padEnd(16)}  ${(k.configured ? (k.keyId === report.sealingKey ? 'yes, seals' : 'yes') : 'NO').padEnd(10)}  ${String(k.dataKeys).padStart(9)}  ${String(k.secrets).padStart(8)}  ${String(k.recoveryCodeSets).padStart(9)}  ${String(k.unusable).padStart(8)}  ${k.removable ? 'yes' : 'no'}`,
          ),
          `${report.users} users; ${report.unpepperedRecoveryCodeSets} recovery-code sets from before the pepper`,
        ];
        context.io.stdout.write(`${lines.join('\n')}\n`);
      }
      if (affectedUsers.size > 0) {
        throw new CliError(
          `${affectedUsers.size} users' stored data needs keys that are not usable: ${report.keys
            .filter((k) => k.unusable > 0)
            .map((k) => printable(k.keyId))
            .join(', ')}; add them to SECRET_ENCRYPTION_KEYS`,
          EXIT.failure,
        );
      }
    });

  keys
    .command('rotate')
    .description('re-wrap every data key under the first key of SECRET_ENCRYPTION_KEYS; resumable')
    .addHelpText(
      'after',
      `${examples('SECRET_ENCRYPTION_KEYS="k2:…,k1:…" twofactor keys rotate', 'twofactor keys status')}
Rewrites no event: each user's data key is unwrapped with the key that wraps it and wrapped
again with the first key, one compare-and-set each, so it runs beside the service, can be
stopped at any point (Ctrl-C finishes the key in hand) and run again to take up the rest.
Exits ${EXIT.failure} when some data keys are wrapped by a key the configuration lacks.
`,
    )
    .action(async () => {
      const runtime = await context.session().runtime();
      const stop = new AbortController();
      const interrupt = () => stop.abort();
      process.once('SIGINT', interrupt);
      const progress = progressReporter(context.io.stderr, { label: 'rotate', now: Date.now, every: 10_000 });
      try {
        const result = await runtime.keys.rotate({
          signal: stop.signal,
          onProgress: ({ examined }) => progress.update(examined),
        });
        progress.finish();
        const scavenge = context.session().scavengeNote();
        if (scavenge !== null && result.rewrapped > 0) context.io.stderr.write(scavenge);
        context.io.stdout.write(
          `${result.examined} data keys examined, ${result.rewrapped} re-wrapped under ${printable(runtime.encryptionKeys?.[0]?.id ?? '-')}` +
            `${stop.signal.aborted ? '; interrupted: run it again to finish' : ''}\n`,
        );
        if (result.unusable > 0) {
          throw new CliError(
            `${result.unusable} data keys are wrapped by keys not in SECRET_ENCRYPTION_KEYS; add them and run again`,
            EXIT.failure,
          );
        }
      } finally {
        process.off('SIGINT', interrupt);
      }
    });

  keys
    .command('migrate')
    .description("seal again under each user's data key the secrets an instance key sealed before data keys")
    .requiredOption('--actor <id>', 'the administrator acting, kept in the audit history', parseId)
    .addHelpText('after', examples('twofactor keys migrate --actor root'))
    .action(async (options: { actor: string }) => {
      const session = context.session();
      const runtime = await session.runtime();
      const userIds = await usersInLog(runtime.store);
      const metadata = session.metadataFor(options.actor);
      let resealed = 0;
      for (const userId of userIds) if (await runtime.service.resealSecrets(userId, metadata)) resealed++;
      context.io.stdout.write(
        `${userIds.size} users; ${resealed} had secrets sealed again under their data key\n`,
      );
    });
}

/** Every user with a 2FA stream, in the order the log first names them. */
async function usersInLog(store: EventStore): Promise<Set<string>> {
  const userIds = new Set<string>();
  for await (const event of store.readAll()) {
    const userId = userIdOfStream(event.streamName);
    if (userId !== null) userIds.add(userId);
  }
  return userIds;
}
