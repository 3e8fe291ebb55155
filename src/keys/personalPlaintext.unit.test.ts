import { describe, expect, it } from 'vitest';
import { decodePersonalPlaintext, encodePersonalPlaintext } from './personalPlaintext.ts';

const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('the plaintext of sealed personal fields', () => {
  it.each([
    ['a browser sign-in', { metadata: { endUserIp: '198.51.100.7', endUserAgent: CHROME }, data: {} }],
    [
      'an agent the dictionary has never seen',
      { metadata: { endUserIp: '2001:db8::1', endUserAgent: 'NetHack/3.6 (Amiga; 68040) 😀' }, data: {} },
    ],
    ['counted addresses', { metadata: {}, data: { endUserIps: ['203.0.113.1', '203.0.113.2'] } }],
  ])('reads back %s exactly', (_label, value) => {
    expect(decodePersonalPlaintext(encodePersonalPlaintext(value))).toEqual(value);
  });

  it("keeps a common browser's address and agent in a fraction of their JSON", () => {
    const value = { metadata: { endUserIp: '198.51.100.7', endUserAgent: CHROME }, data: {} };
    expect(encodePersonalPlaintext(value).length).toBeLessThan(JSON.stringify(value).length / 4);
  });

  it('reads plaintext sealed before it was deflated (plain JSON)', () => {
    const old = { metadata: { endUserIp: '203.0.113.9' }, data: {} };
    expect(decodePersonalPlaintext(Buffer.from(JSON.stringify(old)))).toEqual(old);
  });

  it('refuses a format it does not know', () => {
    expect(() => decodePersonalPlaintext(Buffer.of(9, 1, 2))).toThrow(/unknown format/);
  });
});
