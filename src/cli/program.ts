import { Command, CommanderError, Option } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { registerAdminCommands } from './commands/adminCommands.ts';
import { registerAuditCommands } from './commands/auditCommands.ts';
import { registerKeyCommands } from './commands/keyCommands.ts';
import { registerProjectionCommands } from './commands/projectionCommands.ts';
import type { CliContext } from './context.ts';
import { describeFailure } from './errorReport.ts';
import { EXIT } from './exitCodes.ts';
import { type CliIo, Session } from './session.ts';

const { version } = packageJson;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const ABOUT = `
Works directly against the configured event store — the embedded SQLite store under
DATA_DIR, or EventStoreDB when EVENTSTORE_CONNECTION_STRING is set — so it works while the
HTTP service is stopped. It reads the same environment as the service (DATA_DIR,
EVENTSTORE_CONNECTION_STRING, SECRET_ENCRYPTION_KEYS, …); API keys are not used.

Results go to stdout, diagnostics to stderr. No secret, code, recovery code or digest is
ever printed.

Exit codes:
  0  done
  1  failed: configuration, no event store at DATA_DIR, refused
  2  bad arguments or options (nothing was read or changed)
  3  audit verify: the history is not the one that was recorded
  4  the event store is unavailable (nothing was changed; try again)
`;

/** The whole command tree; `context` is where its actions find the process and the store. */
export function buildProgram(context: CliContext): Command {
  const { io } = context;
  const program = new Command('twofactor');
  // Set before any subcommand is added: commander copies these settings to each new one.
  program
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError();
  program
    .description('Administer the two-factor authentication service and audit its history.')
    .version(version, '-V, --version')
    .addOption(
      new Option('--log-level <level>', 'diagnostics on stderr (the service LOG_LEVEL is not used)')
        .choices(LOG_LEVELS)
        .default('warn'),
    )
    .addHelpText('after', ABOUT);
  registerAdminCommands(program, context);
  registerAuditCommands(program, context);
  registerProjectionCommands(program, context);
  registerKeyCommands(program, context);
  return program;
}

/** Runs one invocation and resolves with its exit code; never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let session: Session | undefined;
  let program: Command | undefined;
  const context: CliContext = {
    io,
    exitCode: EXIT.ok,
    session() {
      session ??= new Session(io, (program?.opts().logLevel as string | undefined) ?? 'warn');
      return session;
    },
  };
  program = buildProgram(context);
  try {
    await program.parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed the message or the help already; --help and --version end in 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, exitCode } = describeFailure(error);
    io.stderr.write(`twofactor: ${message}\n`);
    return exitCode;
  } finally {
    await session?.close().catch((error: unknown) => {
      io.stderr.write(`twofactor: closing the event store failed: ${describeFailure(error).message}\n`);
    });
  }
}
