import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, SecretBoxError } from './secretBox.ts';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('secret box', () => {
  const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('opens what it sealed for the same user, and the sealed form does not contain the secret', () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal(secret, 'ada');
    expect(JSON.stringify(sealed)).not.toContain(secret);
    expect(sealed.keyId).toBe('k1');
    expect(box.open(sealed, 'ada')).toBe(secret);
  });

  it('uses a fresh nonce each time', () => {
    const box = createSecretBox([key('k1')]);
    expect(box.seal(secret, 'ada').nonce).not.toBe(box.seal(secret, 'ada').nonce);
  });

  it("does not open a ciphertext moved to another user's stream", () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal(secret, 'ada');
    expect(() => box.open(sealed, 'mallory')).toThrow(SecretBoxError);
  });

  it('does not open a tampered ciphertext, and says nothing of the secret when it fails', () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal(secret, 'ada');
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const tampered = { ...sealed, ciphertext: bytes.toString('base64') };
    expect(() => box.open(tampered, 'ada')).toThrow(/does not open/);
  });

  it('rotates: a new first key seals, old keys still open their secrets', () => {
    const old = key('old');
    const sealedWithOld = createSecretBox([old]).seal(secret, 'ada');
    const rotated = createSecretBox([key('new'), old]);
    expect(rotated.open(sealedWithOld, 'ada')).toBe(secret);
    expect(rotated.seal(secret, 'ada').keyId).toBe('new');
  });

  it('refuses a secret whose key left the ring, naming only the key id', () => {
    const sealed = createSecretBox([key('gone')]).seal(secret, 'ada');
    expect(() => createSecretBox([key('k2')]).open(sealed, 'ada')).toThrow(
      'encryption key gone is not in the key ring',
    );
  });

  it('refuses keys that are not 32 bytes, and an empty ring', () => {
    expect(() => createSecretBox([{ id: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => createSecretBox([])).toThrow(/empty/);
  });
});
