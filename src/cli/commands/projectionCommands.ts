import type { Command } from 'commander';
import { StoreUnavailableError } from '../../eventStore/eventStore.ts';
import {
  openReadModels,
  type ReadModels,
  ReadModelsLockedError,
  readProjectionStatus,
} from '../../projections/readModels.ts';
import { type CliContext, examples } from '../context.ts';
import { CliError, EXIT } from '../exitCodes.ts';
import { printable } from '../lineOutput.ts';
import { progressReporter } from '../progress.ts';

/**
 * Opens the read models under DATA_DIR over the configured store to write them, and always
 * stops them. Writing takes the read models' lock: refused while the service (or another
 * rebuild) runs.
 */
async function withReadModels<T>(
  context: CliContext,
  use: (readModels: ReadModels) => Promise<T>,
): Promise<T> {
  const session = context.session();
  const readModels = openReadModels({
    dataDir: session.config().dataDir,
    store: await session.store(),
    logger: session.logger(),
    role: 'rebuild from the command line',
  });
  try {
    return await use(readModels);
  } catch (error) {
    if (error instanceof ReadModelsLockedError) throw new CliError(error.message, EXIT.failure);
    throw error;
  } finally {
    await readModels.stop();
  }
}

/** `twofactor projections …`: the read models the service keeps beside itself under DATA_DIR. */
export function registerProjectionCommands(program: Command, context: CliContext): void {
  const projections = program
    .command('projections')
    .description('read models under DATA_DIR: where each stands, and rebuilding them from the log');

  projections
    .command('status')
    .description('each projection with its version and the log position it has applied up to')
    .option('--json', 'print as JSON')
    .addHelpText('after', examples('twofactor projections status'))
    .action(async (options: { json?: boolean }) => {
      const session = context.session();
      // Read-only: looking never changes the read models (nor takes their lock).
      const statuses = await readProjectionStatus({
        dataDir: session.config().dataDir,
        store: await session.store(),
      }).catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) {
          throw new CliError(
            `the event store is unavailable, so how far each projection is behind cannot be told; try again: ${error.message}`,
            EXIT.unavailable,
          );
        }
        throw error;
      });
      const { stdout } = context.io;
      if (options.json) {
        stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
        return;
      }
      const width = Math.max(4, ...statuses.map((s) => s.name.length));
      stdout.write(`${'NAME'.padEnd(width)}  VERSION  ${'POSITION'.padStart(12)}  BEHIND\n`);
      for (const status of statuses) {
        const lag = status.lagEvents;
        stdout.write(
          `${status.name.padEnd(width)}  ${String(status.version).padStart(7)}  ${status.position.padStart(12)}  ${lag ?? '-'}\n`,
        );
      }
    });

  projections
    .command('rebuild')
    .description(
      'rebuild one projection (or all) from the start of the log; the result is identical to catching up',
    )
    .argument('[name]', 'the projection (see `twofactor projections status`); all when left out')
    .addHelpText('after', examples('twofactor projections rebuild', 'twofactor projections rebuild users'))
    .action(async (name: string | undefined, _options: unknown, command: Command) => {
      const { io } = context;
      await withReadModels(context, async (readModels) => {
        if (name !== undefined && !readModels.names.includes(name)) {
          command.error(
            `error: unknown projection '${printable(name)}'; known: ${readModels.names.join(', ')}`,
          );
        }
        const progress = progressReporter(io.stderr, { label: `rebuilding ${name ?? 'all'}`, now: io.now });
        let applied = 0;
        try {
          await readModels.rebuild(name, (done, total) => {
            applied = done;
            progress.update(done, total);
          });
        } finally {
          progress.finish();
        }
        io.stdout.write(`rebuilt ${name ?? readModels.names.join(', ')}: ${applied} events applied\n`);
      });
    });
}
