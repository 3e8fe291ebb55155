import { UseCaseError } from '../application/errors.ts';
import { ConfigError } from '../config/config.ts';
import { KeyUnavailableError } from '../crypto/secretBox.ts';
import { InvalidConnectionStringError } from '../eventStore/esdb/connectionString.ts';
import { StoreUnavailableError } from '../eventStore/eventStore.ts';
import { CliError, EXIT, type ExitCode } from './exitCodes.ts';

/**
 * One line for stderr and the exit code for an error that ended a command. Messages are
 * chosen, not passed through blindly: a JSON parser's message quotes the text it failed on,
 * which in an event store may be a sealed secret or a digest.
 */
export function describeFailure(error: unknown): { readonly message: string; readonly exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof InvalidConnectionStringError) {
    return { message: error.message, exitCode: EXIT.failure };
  }
  if (error instanceof StoreUnavailableError) {
    return {
      message: `the event store is unavailable, nothing was changed; try again: ${error.message}`,
      exitCode: EXIT.unavailable,
    };
  }
  if (error instanceof UseCaseError)
    return { message: `refused (${error.code}): ${error.message}`, exitCode: EXIT.failure };
  if (error instanceof KeyUnavailableError) {
    // The key id only, never a key: what to configure, and that nothing happened.
    return {
      message: `nothing was changed: this needs encryption key ${error.keyId}, which is not configured; run with the service's SECRET_ENCRYPTION_KEYS`,
      exitCode: EXIT.failure,
    };
  }
  if (error instanceof SyntaxError) {
    return {
      message: 'the event store holds an event that is not valid JSON; run `twofactor audit verify`',
      exitCode: EXIT.failure,
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { message: `failed: ${message}`, exitCode: EXIT.failure };
}
