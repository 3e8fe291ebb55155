import { runCli } from './program.ts';

/**
 * The `twofactor` command line (see `bin/twofactor.js`, and `twofactor --help`). The process
 * ends on its own once the store is closed; a client library that keeps a handle open past
 * that gets a few seconds before the exit is forced, so a script never hangs.
 */
const exitCode = await runCli(process.argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  now: Date.now,
});
process.exitCode = exitCode;
setTimeout(() => process.exit(exitCode), 3_000).unref();
