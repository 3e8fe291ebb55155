export const ROLES = ['web', 'admin', 'audit'] as const;
export type Role = (typeof ROLES)[number];

export type ApiKey = { readonly role: Role; readonly key: string };

/** Keys shorter than this are refused: an API key must not be guessable. */
export const MIN_API_KEY_LENGTH = 16;

/**
 * Parses `role:key[,role:key…]`. Throws with a message that names the bad entry by its
 * position and never repeats a key.
 */
export function parseApiKeys(value: string): readonly ApiKey[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new Error('API_KEYS lists no key');
  return entries.map((entry, index) => {
    const separator = entry.indexOf(':');
    const role = entry.slice(0, separator);
    const key = entry.slice(separator + 1);
    if (separator < 0 || !(ROLES as readonly string[]).includes(role)) {
      throw new Error(`API_KEYS entry ${index + 1} must be role:key with a role of ${ROLES.join(', ')}`);
    }
    if (key.length < MIN_API_KEY_LENGTH || /\s/.test(key)) {
      throw new Error(
        `API_KEYS entry ${index + 1} (${role}) needs a key of at least ${MIN_API_KEY_LENGTH} characters without spaces`,
      );
    }
    return { role: role as Role, key };
  });
}

export const formatApiKeys = (keys: readonly ApiKey[]): string =>
  keys.map((k) => `${k.role}:${k.key}`).join(',');
