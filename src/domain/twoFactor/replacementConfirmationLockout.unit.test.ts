import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { SECRET_A, SECRET_B, wrongCodeAt } from '../testing/totpCodes.ts';
import { isLocked } from './lockout.ts';

/**
 * Confirming a replacement authenticator hands out ten fresh recovery codes, so a confirmation
 * is an attempt against the user's factor. Someone holding only the user's password (the very
 * attacker 2FA is there for) could otherwise guess the 6-digit confirmation code of a pending
 * replacement for 15 minutes, and a hit would return the new recovery codes.
 */
function enabledWithPendingReplacement(): TwoFactorAccount {
  const account = new TwoFactorAccount(T0 - 10 * MINUTE);
  account.enable(SECRET_A);
  account.advance(MINUTE);
  const started = account.start(SECRET_B, account.totp(account.currentCode()));
  if (started.outcome?.kind !== 'accepted') throw new Error('replacement not started');
  return account;
}

describe('confirming a replacement authenticator and the lockout', () => {
  it('a first enrollment counts wrong confirmation codes and locks too, so they cannot grow the log', () => {
    const account = new TwoFactorAccount(T0);
    account.start(SECRET_A);
    for (let i = 0; i < 5; i++) {
      const attempt = account.advance(SECOND).confirm(wrongCodeAt(SECRET_A, account.nowMs));
      expect(attempt.outcome).toEqual({ kind: 'invalid-code' });
    }
    expect(account.state.lockouts.app.consecutiveFailures).toBe(5);
    expect(isLocked(account.state.lockouts.app, account.nowMs)).toBe(true);
    expect(account.advance(SECOND).confirm().outcome?.kind).toBe('locked');
    // Further attempts during the same lock are refused without an event of their own.
    expect(account.advance(SECOND).confirm().rejected).toBe('locked');
    expect(account.advance(MINUTE).confirm().outcome).toEqual({ kind: 'accepted' });
    expect(account.state.lockouts.app.consecutiveFailures).toBe(0);
  });

  it('five wrong codes confirming a replacement lock the factor, like any failed attempt', () => {
    const account = enabledWithPendingReplacement();
    for (let i = 0; i < 5; i++) {
      const attempt = account.advance(SECOND).confirm(wrongCodeAt(SECRET_B, account.nowMs));
      expect(attempt.outcome).toEqual({ kind: 'invalid-code' });
    }
    expect(isLocked(account.state.lockouts.app, account.nowMs)).toBe(true);
  });

  it('while the factor is locked, a replacement confirmation is refused without being checked', () => {
    const account = enabledWithPendingReplacement();
    for (let i = 0; i < 5; i++)
      account.advance(SECOND).signIn(account.totp(wrongCodeAt(SECRET_A, account.nowMs)));
    expect(isLocked(account.state.lockouts.app, account.nowMs)).toBe(true);

    const attempt = account.advance(SECOND).confirm();
    expect(attempt.outcome?.kind).toBe('locked');
    expect(account.state.pending).not.toBeNull();
    expect(isLocked(account.state.lockouts.app, account.nowMs)).toBe(true);
  });
});
