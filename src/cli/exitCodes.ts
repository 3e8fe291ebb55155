/**
 * The command line's exit codes, part of its contract: scripts and runbooks branch on them.
 * 2 for usage follows the shell's own convention (bash, grep) for "you called me wrongly".
 */
export const EXIT = {
  /** done */
  ok: 0,
  /** the command could not be done: bad configuration, no event store at DATA_DIR, a refusal */
  failure: 1,
  /** bad arguments or options: nothing was read or changed */
  usage: 2,
  /** `audit verify`: the history is not the one that was recorded */
  tampered: 3,
  /** the event store did not answer; nothing was changed, try again */
  unavailable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command line explains in one line and ends with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
