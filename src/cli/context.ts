import type { ExitCode } from './exitCodes.ts';
import type { CliIo, Session } from './session.ts';

/** What every command's action works with. */
export type CliContext = {
  readonly io: CliIo;
  /** the invocation's session, opened on first use */
  session(): Session;
  /** what the process ends with when the action returns normally */
  exitCode: ExitCode;
};

/** Text for `--help` after the options: examples, one a line. */
export const examples = (...lines: readonly string[]): string =>
  `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
