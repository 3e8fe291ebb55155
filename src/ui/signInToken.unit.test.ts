import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSignInTokens, sameToken } from './signInToken.ts';

const NOW = Date.UTC(2026, 0, 15, 9);

describe('the sign-in form’s token', () => {
  it('is accepted when this service issued it, fresh, and unchanged', () => {
    const tokens = createSignInTokens();
    const token = tokens.issue(NOW);
    expect(tokens.valid(token, NOW + 60_000)).toBe(true);
    expect(tokens.issue(NOW)).not.toBe(token);
  });

  it('is refused when signed with another key, altered, malformed or expired', () => {
    const tokens = createSignInTokens(randomBytes(32));
    const token = tokens.issue(NOW);
    const [nonce, issued, signature] = token.split('.') as [string, string, string];
    expect(createSignInTokens(randomBytes(32)).valid(token, NOW)).toBe(false);
    expect(tokens.valid(`${nonce}x.${issued}.${signature}`, NOW)).toBe(false);
    expect(tokens.valid(`${nonce}.${(NOW + 1).toString(36)}.${signature}`, NOW + 2)).toBe(false);
    expect(tokens.valid(`${nonce}.${issued}`, NOW)).toBe(false);
    expect(tokens.valid('', NOW)).toBe(false);
    expect(tokens.valid(token, NOW + 13 * 60 * 60_000)).toBe(false);
    expect(tokens.valid(token, NOW - 1)).toBe(false);
  });

  it('is compared with the cookie in constant time, and never equal to nothing', () => {
    expect(sameToken('abc', 'abc')).toBe(true);
    expect(sameToken('abc', 'abd')).toBe(false);
    expect(sameToken('abc', 'abcd')).toBe(false);
    expect(sameToken(undefined, undefined)).toBe(false);
    expect(sameToken('abc', undefined)).toBe(false);
  });
});
