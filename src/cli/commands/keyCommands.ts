import type { Command } from 'commander';
import { STREAM_PREFIX } from '../../domain/twoFactor/decider.ts';
import { type CliContext, examples } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';
import { printable } from '../lineOutput.ts';

type KeyRow = {
  keyId: string;
  configured: boolean;
  secrets: number;
  recoveryCodeSets: number;
  unusable: number;
};

const HELP = `${examples('twofactor keys status', 'twofactor keys status --json')}
Reads every user's stored state and counts, per key id, the TOTP secrets sealed with it and
the recovery-code sets peppered with it, and whether the configured SECRET_ENCRYPTION_KEYS
can use it. Exits ${EXIT.failure} when some stored data needs a key that is missing (or is not the key
its id names): add that key back before users are affected. Prints key ids only, never a key.
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
      const runtime = session.runtime();
      const userIds = new Set<string>();
      for await (const event of runtime.store.readAll()) {
        if (event.streamName.startsWith(STREAM_PREFIX))
          userIds.add(event.streamName.slice(STREAM_PREFIX.length));
      }
      const rows = new Map<string, KeyRow>(
        configured.map((keyId) => [
          keyId,
          { keyId, configured: true, secrets: 0, recoveryCodeSets: 0, unusable: 0 },
        ]),
      );
      const row = (keyId: string) => {
        let found = rows.get(keyId);
        if (found === undefined) {
          found = { keyId, configured: false, secrets: 0, recoveryCodeSets: 0, unusable: 0 };
          rows.set(keyId, found);
        }
        return found;
      };
      let unpeppered = 0;
      const affectedUsers = new Set<string>();
      for (const userId of userIds) {
        const use = await runtime.service.keyUse(userId);
        for (const keyId of use.sealedWith) row(keyId).secrets++;
        if (use.recoveryCodes === 'unpeppered') unpeppered++;
        else if (use.recoveryCodes !== 'none') row(use.recoveryCodes).recoveryCodeSets++;
        for (const keyId of use.unusable) {
          row(keyId).unusable++;
          affectedUsers.add(userId);
        }
      }
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
          `${'KEY'.padEnd(16)}  ${'CONFIGURED'.padEnd(10)}  ${'SECRETS'.padStart(8)}  ${'CODE SETS'.padStart(9)}  UNUSABLE`,
          ...report.keys.map(
            (k) =>
              `${printable(k.keyId).padEnd(16)}  ${(k.configured ? (k.keyId === report.sealingKey ? 'yes, seals' : 'yes') : 'NO').padEnd(10)}  ${String(k.secrets).padStart(8)}  ${String(k.recoveryCodeSets).padStart(9)}  ${k.unusable}`,
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
}
