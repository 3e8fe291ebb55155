import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openBytes, sealBytes } from './aesGcm.ts';

const key = randomBytes(32);
const aad = Buffer.from('two-factor-test\u0000user-1');

describe('AES-256-GCM sealing', () => {
  it('opens what it sealed, with the same key and associated data only', () => {
    const sealed = sealBytes(key, Buffer.from('JBSWY3DPEHPK3PXP'), aad);
    expect(openBytes(key, sealed, aad).toString()).toBe('JBSWY3DPEHPK3PXP');
    expect(() => openBytes(randomBytes(32), sealed, aad)).toThrow();
    expect(() => openBytes(key, sealed, Buffer.from('two-factor-test\u0000user-2'))).toThrow();
  });

  it('refuses a tag cut short, which GCM alone would check on its first bytes only', () => {
    const sealed = sealBytes(key, Buffer.from('secret'), aad);
    for (const length of [4, 8, 12, 15]) {
      expect(() => openBytes(key, { ...sealed, tag: sealed.tag.subarray(0, length) }, aad)).toThrow(
        /16-byte tag/,
      );
    }
  });

  it('refuses a nonce of another length', () => {
    const sealed = sealBytes(key, Buffer.from('secret'), aad);
    expect(() =>
      openBytes(key, { ...sealed, nonce: Buffer.concat([sealed.nonce, Buffer.alloc(4)]) }, aad),
    ).toThrow(/12-byte nonce/);
  });

  it('never hands out a nonce twice, nor changes one it handed out, across refills of its pool', () => {
    const copies: string[] = [];
    const sealed = Array.from({ length: 1000 }, () => {
      const one = sealBytes(key, Buffer.from('x'), aad);
      copies.push(one.nonce.toString('hex'));
      return one;
    });
    expect(new Set(copies).size).toBe(1000);
    expect(sealed.map((one) => one.nonce.toString('hex'))).toEqual(copies);
    for (const one of sealed.slice(0, 5)) expect(openBytes(key, one, aad).toString()).toBe('x');
  });
});
