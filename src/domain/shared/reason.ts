import { hasUnsafeCharacters, UNSAFE_CHARACTERS_MESSAGE } from './text.ts';

/**
 * Why an administrator acted (a reset, an unlock, an erasure): kept in the history for good
 * and read by people, so plain text of a bounded length. One rule for every channel that
 * records it (the HTTP API and the command line).
 */
export const REASON_MAX_LENGTH = 500;

/** Whitespace at either end is not part of the reason. */
export const normaliseReason = (text: string): string => text.trim();

/** Why a (normalised) reason is refused, or null when it is acceptable. */
export function reasonProblem(reason: string): string | null {
  if (reason.length === 0) return 'must not be empty';
  if (reason.length > REASON_MAX_LENGTH) return `must be at most ${REASON_MAX_LENGTH} characters`;
  if (hasUnsafeCharacters(reason)) return UNSAFE_CHARACTERS_MESSAGE;
  return null;
}
