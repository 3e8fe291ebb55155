import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { totpProof } from '../testing/commands.ts';
import { codeAt, SECRET_A, secretFor } from '../testing/totpCodes.ts';
import { MAX_AUTHENTICATORS } from './authenticatorNames.ts';

/*
 * More authenticators never mean more guesses (the objection to several TOTP secrets per
 * user: each would multiply an attacker's chances). A wrong code matches no device, so it
 * counts once against the one lockout the apps share: with k devices, the same guesses at the
 * same times lock, refuse and unlock exactly as they do with one.
 */

const SECRETS = [SECRET_A, ...[2, 3, 4, 5].map((n) => secretFor(`device ${n}`))];

/** An account with `k` confirmed authenticators, SECRETS[0..k). */
function accountWith(k: number): TwoFactorAccount {
  const account = new TwoFactorAccount(T0);
  account.enable(SECRETS[0]!);
  for (let n = 1; n < k; n++) {
    account.advance(MINUTE);
    account.add(`auth_d${n}`, SECRETS[n]!, account.totp(account.currentCode()), `Device ${n + 1}`);
    account.advance(SECOND);
    account.confirmAdded(`auth_d${n}`);
  }
  return account;
}

/** A code none of `secrets` shows within two steps of `nowMs`, from a guess. */
function wrongForAll(guess: number, secrets: readonly string[], nowMs: number): string {
  const near = new Set(secrets.flatMap((s) => [-2, -1, 0, 1, 2].map((offset) => codeAt(s, nowMs, offset))));
  for (let candidate = guess; ; candidate = (candidate + 1) % 1_000_000) {
    const code = String(candidate).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

const guesses = fc.array(
  fc.record({
    code: fc.integer({ min: 0, max: 999_999 }),
    waitMs: fc.constantFrom(SECOND, 10 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE),
  }),
  { minLength: 5, maxLength: 120 },
);

describe('several authenticators share one app lockout', () => {
  it('with k devices, the same wrong guesses lock, refuse and count exactly as with one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_AUTHENTICATORS }), guesses, (k, tries) => {
        const several = accountWith(k);
        const one = accountWith(1);
        one.advance(several.nowMs - one.nowMs);
        const secrets = SECRETS.slice(0, k);
        for (const { code, waitMs } of tries) {
          several.advance(waitMs);
          one.advance(waitMs);
          const wrong = wrongForAll(code, secrets, several.nowMs);
          const bySeveral = several.signIn(several.totp(wrong));
          const byOne = one.signIn(totpProof(wrong, one.openedSecrets()));
          expect(bySeveral.events.map((e) => e.type)).toEqual(byOne.events.map((e) => e.type));
          expect(bySeveral.rejected).toBe(byOne.rejected);
          expect(several.state.lockouts.app).toEqual(one.state.lockouts.app);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('five wrong guesses lock the app whatever the number of devices', () => {
    for (let k = 1; k <= MAX_AUTHENTICATORS; k++) {
      const account = accountWith(k);
      const secrets = SECRETS.slice(0, k);
      const locked: number[] = [];
      for (let n = 1; n <= 6; n++) {
        account.advance(SECOND);
        const attempt = account.signIn(account.totp(wrongForAll(n * 7919, secrets, account.nowMs)));
        if (attempt.events.some((e) => e.type === 'FactorLocked')) locked.push(n);
      }
      expect(locked, `${k} devices`).toEqual([5]);
    }
  });
});
