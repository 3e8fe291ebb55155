import type { EncryptionKey } from '../crypto/secretBox.ts';

/**
 * Parses `keyId:base64(32 bytes)[,…]`; the first key seals, all open. Errors name the entry
 * by position and key id, never the key.
 */
export function parseEncryptionKeys(value: string): readonly EncryptionKey[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new Error('SECRET_ENCRYPTION_KEYS lists no key');
  const ids = new Set<string>();
  return entries.map((entry, index) => {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    if (separator <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      throw new Error(`SECRET_ENCRYPTION_KEYS entry ${index + 1} must be keyId:base64key`);
    }
    if (ids.has(id)) throw new Error(`SECRET_ENCRYPTION_KEYS lists key id ${id} twice`);
    ids.add(id);
    const encoded = entry.slice(separator + 1);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32 || key.toString('base64') !== encoded) {
      throw new Error(`SECRET_ENCRYPTION_KEYS key ${id} must be 32 bytes in base64 (44 characters)`);
    }
    return { id, key };
  });
}

export const formatEncryptionKeys = (keys: readonly EncryptionKey[]): string =>
  keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
