/**
 * Text that enters an event is read later by people, in terminals and in web pages. Control
 * characters (C0, DEL, C1) can drive a terminal, and bidirectional embeddings, overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) can make a record read as something it is not.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

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
  'must not contain control characters or bidirectional overrides (U+202A–U+202E, U+2066–U+2069)';
