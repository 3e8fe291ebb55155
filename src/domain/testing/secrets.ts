import { createHash } from 'node:crypto';
import type { EncryptedSecret } from '../twoFactor/encryptedSecret.ts';

/**
 * A stand-in for the key ring: the domain treats an EncryptedSecret as opaque, so these
 * tests seal a base32 secret into fields derived from it by a one-way hash (never containing
 * it) and remember how to "open" it again, as the command handler would by decrypting.
 */
const opened = new Map<string, string>();

const derive = (purpose: string, secretBase32: string, bytes: number): string =>
  createHash('sha256').update(`${purpose}:${secretBase32}`).digest().subarray(0, bytes).toString('base64');

export const TEST_KEY_ID = 'test-key-1';

export function sealSecret(secretBase32: string): EncryptedSecret {
  const sealed: EncryptedSecret = {
    keyId: TEST_KEY_ID,
    nonce: derive('nonce', secretBase32, 12),
    ciphertext: derive('ciphertext', secretBase32, 32),
    tag: derive('tag', secretBase32, 16),
  };
  opened.set(sealed.ciphertext, secretBase32);
  return sealed;
}

/** What the handler hands to the domain: the decrypted secret of a sealed one. */
export function openSecret(sealed: EncryptedSecret): string {
  const secretBase32 = opened.get(sealed.ciphertext);
  if (secretBase32 === undefined) throw new Error('this secret was not sealed by sealSecret');
  return secretBase32;
}
