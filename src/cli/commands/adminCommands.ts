import type { Command } from 'commander';
import { REASON_MAX_LENGTH } from '../../domain/shared/reason.ts';
import { GRACE_PERIOD_HOURS_MAX } from '../../domain/twoFactor/enrollmentDeadline.ts';
import { parseGraceHours, parseId, parseReason } from '../arguments.ts';
import { authenticatorLines } from '../authenticatorsView.ts';
import { type CliContext, examples } from '../context.ts';

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

const hours = (count: number) =>
  count === 0 ? 'none (set up at the next sign-in)' : `${count} hour${count === 1 ? '' : 's'}`;

const json = (value: unknown) => JSON.stringify(value, null, 2);

/**
 * `twofactor admin …`: the administrators' commands of the HTTP API, run straight against
 * the event store — the emergency path when the HTTP service is down. Each is recorded like
 * its HTTP twin, with actor role `cli`, the `--actor` id and a fresh correlation id.
 */
export function registerAdminCommands(program: Command, context: CliContext): void {
  const admin = program
    .command('admin')
    .description(
      "administrators: emergency reset, erasure, unlock, a user's authenticator apps, the instance policy (HTTP service may be stopped)",
    );

  /** An act on one user that the audit keeps with who did it and why. */
  const userAct = (name: string) =>
    admin
      .command(name)
      .argument('<userId>', 'the user (1–128 characters of [A-Za-z0-9._:@-])', parseId)
      .requiredOption(
        '--reason <text>',
        `why, kept in the audit history (1–${REASON_MAX_LENGTH} characters)`,
        parseReason,
      )
      .requiredOption('--actor <id>', 'the administrator acting, kept in the audit history', parseId)
      .option('--json', 'print the result as JSON, like the HTTP API');

  userAct('reset')
    .description(
      "emergency reset: the user's authenticator and all recovery codes stop working, the user enrolls again; works in any state",
    )
    .addHelpText(
      'after',
      examples(
        `twofactor admin reset ada --reason "lost phone, identity checked by ticket 4711" --actor root`,
      ),
    )
    .action(async (userId: string, options: { reason: string; actor: string; json?: boolean }) => {
      const session = context.session();
      const { service } = await session.runtime();
      const before = await service.peekStatus(userId);
      const result = await service.reset(userId, options.reason, session.metadataFor(options.actor));
      const { stdout } = context.io;
      if (options.json) stdout.write(`${json(result)}\n`);
      else
        stdout.write(
          `${userId}: two-factor authentication reset (was ${before.status}, now ${result.status})\n`,
        );
    });

  userAct('erase')
    .description(
      "erase the user's personal data: destroys their data key (secret, addresses, agents can never be read again), records UserErased; 2FA reads disabled",
    )
    .addHelpText(
      'after',
      examples(`twofactor admin erase ada --reason "erasure request, ticket 5120" --actor root`),
    )
    .action(async (userId: string, options: { reason: string; actor: string; json?: boolean }) => {
      const session = context.session();
      const { service } = await session.runtime();
      const result = await service.erase(userId, options.reason, session.metadataFor(options.actor));
      const { stdout } = context.io;
      if (options.json) stdout.write(`${json(result)}\n`);
      else {
        stdout.write(
          `${userId}: personal data erased (data key destroyed; what it sealed can never be read again)\n`,
        );
        stdout.write(
          `${userId}: the user id itself stays: it names the user's event stream and is in every event (use opaque user ids, not e-mail addresses)\n`,
        );
      }
      const scavenge = session.scavengeNote();
      if (scavenge !== null) context.io.stderr.write(scavenge);
      if (result.retained.includes('authenticatorName')) {
        context.io.stderr.write(
          `note: the names ${userId} gave their authenticator apps stay readable in the history: they are labels, kept as written\n`,
        );
      }
      const plainFields = result.retained.filter((kind) => kind !== 'userId' && kind !== 'authenticatorName');
      if (plainFields.length > 0) {
        context.io.stderr.write(
          `warning: older events of ${userId} keep ${plainFields.join(', ')} in plain text, written before those fields were sealed; events are never rewritten (docs/keys.md)\n`,
        );
      }
      if (result.eventsWrittenBeforeDataKeys !== undefined) {
        context.io.stderr.write(
          `warning: ${result.eventsWrittenBeforeDataKeys} of ${userId}'s events were written before data keys and keep their end-user addresses and agents in plain text; events are never rewritten (docs/keys.md)\n`,
        );
      }
    });

  admin
    .command('unlock')
    .description(
      "clear both lockouts (the authenticator app's and the recovery codes'), temporary or ones that wait for an administrator",
    )
    .argument('<userId>', 'the user', parseId)
    .requiredOption('--actor <id>', 'the administrator acting, kept in the audit history', parseId)
    .option('--json', 'print the status document as JSON, like the HTTP API')
    .addHelpText('after', examples('twofactor admin unlock bob --actor root'))
    .action(async (userId: string, options: { actor: string; json?: boolean }) => {
      const session = context.session();
      const { service } = await session.runtime();
      const before = await service.peekStatus(userId);
      const status = await service.unlock(userId, session.metadataFor(options.actor));
      const { stdout } = context.io;
      if (options.json) stdout.write(`${json(status)}\n`);
      else {
        const locked = [
          ...(before.locked ? ['authenticator app'] : []),
          ...(before.recoveryCodesLocked ? ['recovery codes'] : []),
        ];
        stdout.write(
          `${userId}: ${locked.length > 0 ? `unlocked (${locked.join(' and ')})` : 'was not locked'} (status ${status.status})\n`,
        );
      }
    });

  admin
    .command('authenticators')
    .description(
      "list a user's authenticator apps: name, id, when each was added and last used (reads only; records nothing)",
    )
    .argument('<userId>', 'the user', parseId)
    .option('--json', 'print the list as JSON, like the HTTP API')
    .addHelpText(
      'after',
      examples('twofactor admin authenticators ada', 'twofactor admin authenticators ada --json'),
    )
    .action(async (userId: string, options: { json?: boolean }) => {
      const { service } = await context.session().runtime();
      const authenticators = await service.authenticators(userId);
      const { stdout } = context.io;
      if (options.json) stdout.write(`${json({ authenticators })}\n`);
      else for (const line of authenticatorLines(userId, authenticators)) stdout.write(`${line}\n`);
    });

  admin
    .command('policy')
    .description('show the instance policy, or require (or stop requiring) 2FA for all users')
    .option('--require', 'require two-factor authentication for all users')
    .option('--no-require', 'stop requiring it')
    .option(
      '--grace-hours <hours>',
      `with --require: how long a user without 2FA may defer setting it up, from when the service first sees them (0–${GRACE_PERIOD_HOURS_MAX}, default 0: at the next sign-in)`,
      parseGraceHours,
    )
    .option('--actor <id>', 'the administrator acting (required to change the policy)', parseId)
    .option('--json', 'print the policy as JSON, like the HTTP API')
    .addHelpText(
      'after',
      examples(
        'twofactor admin policy',
        'twofactor admin policy --require --actor root',
        'twofactor admin policy --require --grace-hours 72 --actor root',
        'twofactor admin policy --no-require --actor root',
      ),
    )
    .action(
      async (
        options: { require?: boolean; graceHours?: number; actor?: string; json?: boolean },
        command: Command,
      ) => {
        if (options.graceHours !== undefined && options.require === undefined) {
          command.error('error: --grace-hours is set together with --require (or --no-require)');
        }
        if (options.require !== undefined && options.actor === undefined) {
          // Through commander, so it reads (and exits) like its own usage errors.
          command.error(
            "error: required option '--actor <id>' not specified: name the administrator changing the policy",
          );
        }
        const session = context.session();
        const { service } = await session.runtime();
        const before = await service.policy();
        const policy =
          options.require === undefined
            ? before
            : await service.changePolicy(options.require, session.metadataFor(options.actor!), {
                gracePeriodHours: options.graceHours ?? 0,
              });
        const { stdout } = context.io;
        if (options.json) {
          stdout.write(`${json(policy)}\n`);
          return;
        }
        const changed = options.require === undefined ? '' : ` (was ${yesNo(before.requireTwoFactor)})`;
        stdout.write(
          `require two-factor authentication for all users: ${yesNo(policy.requireTwoFactor)}${changed}\n`,
        );
        if (policy.requireTwoFactor) {
          const grace = `grace period: ${hours(policy.gracePeriodHours)}`;
          const was =
            options.require === undefined || before.gracePeriodHours === policy.gracePeriodHours
              ? ''
              : ` (was ${hours(before.gracePeriodHours)})`;
          stdout.write(`${grace}${was}; required since ${policy.requiredSince ?? 'unknown'}\n`);
        }
        stdout.write(
          policy.updatedAt === null
            ? 'never changed\n'
            : `last changed ${policy.updatedAt} by ${policy.updatedBy ?? 'unknown'}\n`,
        );
      },
    );
}
