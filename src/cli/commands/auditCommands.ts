import { type Command, Option } from 'commander';
import { revealAuditRecord, toAuditRecord } from '../../projections/auditRecord.ts';
import { personalDataReader } from '../../projections/personalData.ts';
import { parseCount, parseId, parsePosition, parseTime } from '../arguments.ts';
import { auditTableHeader, auditTableRow, matchesAuditFilter } from '../auditView.ts';
import { type CliContext, examples } from '../context.ts';
import { LineOutput } from '../lineOutput.ts';
import { registerVerifyCommand } from './verifyCommand.ts';

type EventsOptions = {
  user?: string;
  since?: number;
  until?: number;
  after?: bigint;
  limit?: number;
  format?: 'ndjson' | 'table';
};

/**
 * `twofactor audit …`: the security team's questions, answered from the event log itself
 * (not from a projection), so they hold even when read models are behind or being rebuilt.
 */
export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program
    .command('audit')
    .description('security team: the history of every change and attempt, past states, tamper evidence');

  audit
    .command('events')
    .description(
      'every event of the log as audit records, in log order; no secret, code or digest is ever shown',
    )
    .option('--user <id>', "only this user's records", parseId)
    .option('--since <time>', 'only records recorded at or after this ISO 8601 time', parseTime)
    .option('--until <time>', 'only records recorded before this ISO 8601 time', parseTime)
    .option(
      '--after <position>',
      'resume after this log position (the "position" of the last record you have)',
      parsePosition,
    )
    .option('--limit <n>', 'stop after n records', parseCount)
    .addOption(
      new Option(
        '--format <format>',
        'ndjson: one JSON record a line; table: for reading (default: table on a terminal, else ndjson)',
      ).choices(['ndjson', 'table']),
    )
    .addHelpText(
      'after',
      examples(
        'twofactor audit events --user ada > ada-history.ndjson',
        'twofactor audit events --since 2026-01-01 --until 2026-02-01 --format table',
        'twofactor audit events --after 1200 | jq -c \'select(.type == "VerificationFailed")\'',
      ),
    )
    .action(async (options: EventsOptions, command: Command) => {
      if (options.since !== undefined && options.until !== undefined && options.since >= options.until) {
        command.error('error: --since must be before --until');
      }
      const { stdout } = context.io;
      const format = options.format ?? (stdout.isTTY ? 'table' : 'ndjson');
      const out = new LineOutput(stdout);
      const session = context.session();
      // The runtime first: its keys open the personal fields, and the store comes with it.
      const read = personalDataReader((await session.runtime()).keys);
      const store = await session.store();
      if (format === 'table') await out.line(auditTableHeader());
      const filter = { userId: options.user, sinceMs: options.since, untilMs: options.until };
      let written = 0;
      // Streaming: one event in memory at a time, however long the log.
      for await (const recorded of store.readAll({ after: options.after ?? 0n })) {
        const stored = toAuditRecord(recorded);
        if (!matchesAuditFilter(stored, filter)) continue;
        const record = await revealAuditRecord(stored, read);
        await out.line(format === 'table' ? auditTableRow(record) : JSON.stringify(record));
        written += 1;
        if (out.closed || written === options.limit) break;
      }
    });

  audit
    .command('state')
    .description("a user's 2FA status document as it stood at a past moment, rebuilt from the history")
    .argument('<userId>', 'the user', parseId)
    .requiredOption('--at <time>', 'the moment, ISO 8601 (e.g. 2026-01-31T12:00:00Z)', parseTime)
    .addHelpText('after', examples('twofactor audit state ada --at 2026-01-31T12:00:00Z'))
    .action(async (userId: string, options: { at: number }) => {
      const { service } = await context.session().runtime();
      const status = await service.statusAt(userId, options.at);
      context.io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    });

  registerVerifyCommand(audit, context);
}
