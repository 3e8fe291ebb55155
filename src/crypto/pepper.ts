import { createHmac, hkdfSync } from 'node:crypto';
import { type EncryptionKey, KeyUnavailableError } from './secretBox.ts';

/**
 * A server-side pepper for recovery codes: the code is hashed with a key of the instance key
 * ring (HMAC-SHA-256) before argon2, so someone who can write to the event store but holds no
 * key cannot plant a set of digests for codes they know. Each instance key gives its own
 * pepper key, derived (HKDF) rather than reused, so the AES key and the HMAC key never meet.
 */
export type PepperRing = {
  /** the key new sets are peppered with */
  readonly currentKeyId: string;
  /** the peppered form of a canonical code under a key id */
  pepper(canonicalCode: string, keyId: string): string;
};

/** The HMAC key a key gives for peppering: derived, so that one key never serves two ciphers. */
export const derivePepperKey = (key: Buffer): Buffer =>
  Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'two-factor recovery-code pepper', 32));

export const pepperWith = (pepperKey: Buffer, canonicalCode: string): string =>
  createHmac('sha256', pepperKey).update(canonicalCode, 'utf8').digest('base64');

export function createPepperRing(keys: readonly EncryptionKey[]): PepperRing {
  const [current] = keys;
  if (current === undefined) throw new Error('the encryption key ring is empty');
  const ring = new Map(keys.map(({ id, key }) => [id, derivePepperKey(key)]));
  return {
    currentKeyId: current.id,
    pepper(canonicalCode, keyId) {
      const key = ring.get(keyId);
      if (key === undefined) throw new KeyUnavailableError(keyId);
      return pepperWith(key, canonicalCode);
    },
  };
}
