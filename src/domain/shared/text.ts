/**
 * Text that enters an event is read later by people, in terminals and in web pages. Control
 * characters (C0, DEL, C1) can drive a terminal, and bidirectional marks, embeddings,
 * overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) can make a
 * record read as something it is not.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function hasUnsafeCharacters(text: string): boolean {
  UNSAFE_CHARACTERS.lastIndex = 0;
  return UNSAFE_CHARACTERS.test(text);
}

export function withoutUnsafeCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, '');
}

/** Unsafe characters as visible `\uXXXX` escapes, for output a person reads. */
export function escapeUnsafeCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const UNSAFE_CHARACTERS_MESSAGE =
  'must not contain control characters or bidirectional marks and overrides (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)';

/** Longest end-user agent kept for the audit. */
export const USER_AGENT_MAX = 512;

/**
 * An end user's agent as the audit keeps it: without unsafe characters, cut to a bounded
 * length by code points, so a character is never split in half. Cleaned rather than refused:
 * a sign-in must not fail over it.
 */
export const boundedUserAgent = (value: string): string =>
  Array.from(withoutUnsafeCharacters(value)).slice(0, USER_AGENT_MAX).join('');
