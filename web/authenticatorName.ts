import {
  AUTHENTICATOR_NAME_MAX_LENGTH,
  authenticatorNameProblem,
  normaliseAuthenticatorName,
  sameAuthenticatorName,
} from '../src/domain/twoFactor/authenticatorNames.ts';
import type { ApiError } from './api.ts';
import { AUTHENTICATOR_NAME_TAKEN } from './messages.ts';

export { AUTHENTICATOR_NAME_MAX_LENGTH };

/**
 * What is wrong with a name typed for an authenticator app, in the person's words, or null:
 * the domain's rule (1–64 characters, nothing that could make it read as something else) and
 * unlike the names of the user's other apps. The service checks again; this only saves a trip.
 */
export function authenticatorNameError(typed: string, otherNames: readonly string[]): string | null {
  const name = normaliseAuthenticatorName(typed);
  if (name === '') return 'Enter a name for this authenticator app, e.g. Backup phone.';
  if (Array.from(name).length > AUTHENTICATOR_NAME_MAX_LENGTH) {
    return `Use at most ${AUTHENTICATOR_NAME_MAX_LENGTH} characters.`;
  }
  if (authenticatorNameProblem(name) !== null) {
    return 'Use letters, digits, spaces and punctuation only: no control characters or text-direction marks.';
  }
  if (otherNames.some((other) => sameAuthenticatorName(other, name))) return AUTHENTICATOR_NAME_TAKEN;
  return null;
}

/** The service refused the name (taken, or not within its rule), not a code sent with it. */
export const refusesName = (error: ApiError): boolean =>
  error.code === 'authenticator-name-taken' ||
  (error.code === 'invalid-request' && /\bbody\.name\b/.test(error.detail));
