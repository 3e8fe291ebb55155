import { runCli } from './program.ts';

/**
 * The `twofactor` command line (see `bin/twofactor.js`, and `twofactor --help`). The process
 * ends on its own once the store is closed; a client library that keeps a handle open past
 * that gets a few seconds before the exit is forced, so a script never hangs.
 */
// A reader that stops early (`twofactor audit events | head`) closes the pipe: the rest of the
// output is not wanted, which is no failure, so the command ends quietly instead of crashing.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

// No top-level await: the compiled command line is a CommonJS bundle (see scripts/build.ts).
void runCli(process.argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  now: Date.now,
}).then((exitCode) => {
  process.exitCode = exitCode;
  setTimeout(() => process.exit(exitCode), 3_000).unref();
});
