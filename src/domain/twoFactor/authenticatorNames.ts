import { hasUnsafeCharacters, UNSAFE_CHARACTERS_MESSAGE } from '../shared/text.ts';

/*
 * A user's authenticator apps: how many, what they are called, how they are told apart. A
 * name is read by its user (and by administrators and in the audit), so it follows the rule
 * for any text that enters an event.
 */

/** At most this many authenticator apps per user (a pending one included). */
export const MAX_AUTHENTICATORS = 5;

export const AUTHENTICATOR_NAME_MAX_LENGTH = 64;

/** The name of an authenticator whose user gave none (every app enrolled before names). */
export const DEFAULT_AUTHENTICATOR_NAME = 'Authenticator app';

/** The id that histories recorded with one authenticator per user read as (upcasters.ts). */
export const FIRST_AUTHENTICATOR_ID = 'auth_1';

/** `auth_` and up to 32 letters and digits: the form of every id the service hands out. */
export const AUTHENTICATOR_ID_PATTERN = /^auth_[A-Za-z0-9]{1,32}$/;

/** Whitespace at either end is not part of a name. */
export const normaliseAuthenticatorName = (name: string): string => name.trim();

/** Why a (normalised) name is refused, or null when it is acceptable. */
export function authenticatorNameProblem(name: string): string | null {
  const length = Array.from(name).length;
  if (length === 0) return 'must not be empty';
  if (length > AUTHENTICATOR_NAME_MAX_LENGTH) {
    return `must be at most ${AUTHENTICATOR_NAME_MAX_LENGTH} characters`;
  }
  if (hasUnsafeCharacters(name)) return UNSAFE_CHARACTERS_MESSAGE;
  return null;
}

/** Two names a person would read as the same: case and Unicode form aside. */
export const sameAuthenticatorName = (a: string, b: string): boolean =>
  a.normalize('NFC').toLocaleLowerCase('en') === b.normalize('NFC').toLocaleLowerCase('en');
