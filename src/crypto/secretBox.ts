import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';

export type EncryptionKey = { readonly id: string; readonly key: Buffer };

/**
 * Seals TOTP secrets with AES-256-GCM before they enter an event. The first key of the ring
 * seals; every key opens, so keys rotate by putting a new one first and keeping the old
 * ones while events sealed with them exist. The user id and key id are bound as associated
 * data, so a ciphertext copied into another user's stream does not open.
 */
export type SecretBox = {
  seal(plaintext: string, userId: string): EncryptedSecret;
  open(sealed: EncryptedSecret, userId: string): string;
};

const associatedData = (userId: string, keyId: string): Buffer =>
  Buffer.from(`two-factor-secret\u0000${keyId}\u0000${userId}`, 'utf8');

export class SecretBoxError extends Error {
  override readonly name: string = 'SecretBoxError';
}

/**
 * Stored data needs a key the configuration does not hold: the operator's to fix (add the
 * key back), not the user's fault, and nothing to retry blindly. The id is safe to log; the
 * key never is.
 */
export class KeyUnavailableError extends SecretBoxError {
  override readonly name = 'KeyUnavailableError';
  constructor(
    readonly keyId: string,
    message = `encryption key ${keyId} is not in the key ring`,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function createSecretBox(keys: readonly EncryptionKey[]): SecretBox {
  const [current] = keys;
  if (current === undefined) throw new SecretBoxError('the encryption key ring is empty');
  for (const { id, key } of keys) {
    if (key.length !== 32) throw new SecretBoxError(`encryption key ${id} must be 32 bytes`);
  }
  const ring = new Map(keys.map(({ id, key }) => [id, key]));
  return {
    seal(plaintext, userId) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
      cipher.setAAD(associatedData(userId, current.id));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        keyId: current.id,
        nonce: nonce.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    open(sealed, userId) {
      const key = ring.get(sealed.keyId);
      if (key === undefined) throw new KeyUnavailableError(sealed.keyId);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.nonce, 'base64'));
        decipher.setAAD(associatedData(userId, sealed.keyId));
        decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
        return Buffer.concat([
          decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
          decipher.final(),
        ]).toString('utf8');
      } catch (cause) {
        // No detail from the cipher: it would say nothing useful and could say too much. The
        // key under this id is not the one that sealed (or the data was moved or altered):
        // for the operator to look into, like a missing key.
        throw new KeyUnavailableError(
          sealed.keyId,
          `the secret sealed with key ${sealed.keyId} does not open for this user`,
          { cause },
        );
      }
    },
  };
}

/**
 * For a process that has no key ring (the command line without SECRET_ENCRYPTION_KEYS): any
 * attempt to seal or open a secret fails plainly instead of inventing a key.
 */
export function secretBoxWithoutKeys(): SecretBox {
  const refuse = (): never => {
    throw new SecretBoxError('no secret encryption keys: set SECRET_ENCRYPTION_KEYS');
  };
  return { seal: refuse, open: refuse };
}
