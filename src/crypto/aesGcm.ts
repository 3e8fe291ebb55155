import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';

/** AES-256-GCM with a random 96-bit nonce; what each part of the service seals with. */
export type Sealed = { readonly nonce: Buffer; readonly ciphertext: Buffer; readonly tag: Buffer };

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Random nonces drawn from a pool the CSPRNG fills 4 KiB at a time: one call for 340 nonces
 * instead of one each (every sign-in seals its end user's fields). Each nonce is copied out,
 * so refilling never changes one already handed out.
 */
const noncePool = Buffer.alloc(4096);
let noncePoolOffset = noncePool.length;
function freshNonce(): Buffer {
  if (noncePoolOffset + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = Buffer.from(noncePool.subarray(noncePoolOffset, noncePoolOffset + NONCE_BYTES));
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}

export function sealBytes(key: Buffer, plaintext: Buffer, associatedData: Buffer): Sealed {
  const nonce = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Throws when the key, the associated data or any byte is not what sealed it. The nonce and
 * tag lengths are checked: GCM would accept a tag cut to 4 bytes, which a forger could guess.
 */
export function openBytes(key: Buffer, sealed: Sealed, associatedData: Buffer): Buffer {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new Error(`a sealed value has a ${NONCE_BYTES}-byte nonce and a ${TAG_BYTES}-byte tag`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData);
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}
