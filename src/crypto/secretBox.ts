import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import { openBytes, sealBytes } from './aesGcm.ts';

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

/** Seals a secret of `userId` under `key`, named by its id (an instance key's, or a data key's). */
export function sealSecret(key: EncryptionKey, plaintext: string, userId: string): EncryptedSecret {
  const sealed = sealBytes(key.key, Buffer.from(plaintext, 'utf8'), associatedData(userId, key.id));
  return {
    keyId: key.id,
    nonce: sealed.nonce.toString('base64'),
    ciphertext: sealed.ciphertext.toString('base64'),
    tag: sealed.tag.toString('base64'),
  };
}

/** Opens what `sealSecret` sealed; throws when `key` or `userId` is not the one it was sealed for. */
export function openSecret(key: Buffer, sealed: EncryptedSecret, userId: string): string {
  return openBytes(
    key,
    {
      nonce: Buffer.from(sealed.nonce, 'base64'),
      ciphertext: Buffer.from(sealed.ciphertext, 'base64'),
      tag: Buffer.from(sealed.tag, 'base64'),
    },
    associatedData(userId, sealed.keyId),
  ).toString('utf8');
}

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
    seal: (plaintext, userId) => sealSecret(current, plaintext, userId),
    open(sealed, userId) {
      const key = ring.get(sealed.keyId);
      if (key === undefined) throw new KeyUnavailableError(sealed.keyId);
      try {
        return openSecret(key, sealed, userId);
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
