import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a sign-in form's token is good for: a page left open a working day still signs in. */
const TOKEN_LIFETIME_MS = 12 * 60 * 60_000;

export type SignInTokens = {
  /** a fresh token: a random nonce and the time, signed */
  issue(nowMs: number): string;
  /** whether `token` is one this service issued and that has not expired */
  valid(token: string, nowMs: number): boolean;
};

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

/**
 * The sign-in form's CSRF protection, without a session: a signed double-submit token. The
 * token goes to the browser in a cookie and in the answer the page reads; a sign-in must send
 * it back in a header, equal to the cookie, signed by this service. A page elsewhere can read
 * neither, and cannot make one: so a flood of visitors costs nothing to keep, and a sign-in
 * cannot be forged. The key is random per process (sessions live in one process too).
 */
export function createSignInTokens(key: Buffer = randomBytes(32)): SignInTokens {
  return {
    issue(nowMs) {
      const payload = `${randomBytes(18).toString('base64url')}.${nowMs.toString(36)}`;
      return `${payload}.${mac(key, payload)}`;
    },
    valid(token, nowMs) {
      const parts = token.split('.');
      if (parts.length !== 3) return false;
      const [nonce, issued, signature] = parts as [string, string, string];
      const expected = Buffer.from(mac(key, `${nonce}.${issued}`));
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
      const issuedAtMs = Number.parseInt(issued, 36);
      return Number.isFinite(issuedAtMs) && issuedAtMs <= nowMs && nowMs - issuedAtMs < TOKEN_LIFETIME_MS;
    },
  };
}

/** Whether two tokens are the same, in constant time (the double-submit check). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
