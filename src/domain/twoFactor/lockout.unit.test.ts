import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { HOUR, iso, MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { SECRET_A, SECRET_B, wrongCodeAt } from '../testing/totpCodes.ts';
import type { VerificationFailed } from './events.ts';
import { twoFactorStatus } from './status.ts';

/** An account enabled with SECRET_A, a minute before T0. */
function enabledAccount(): TwoFactorAccount {
  const account = new TwoFactorAccount(T0 - MINUTE);
  account.enable(SECRET_A);
  account.advance(T0 - account.nowMs);
  return account;
}

const fail = (account: TwoFactorAccount) =>
  account.signIn(account.totp(wrongCodeAt(SECRET_A, account.nowMs)));

function failTimes(account: TwoFactorAccount, times: number) {
  let last = fail(account);
  for (let i = 1; i < times; i++) {
    account.advance(SECOND);
    last = fail(account);
  }
  return last;
}

/** Waits until the account's temporary lock has ended. */
function waitOutLock(account: TwoFactorAccount): void {
  const until = account.state.lockouts.app.lockedUntilMs;
  if (until !== null && until > account.nowMs) account.advance(until - account.nowMs);
}

describe('the authenticator app’s lockout after consecutive failures', () => {
  it('four consecutive failures do not lock', () => {
    const account = enabledAccount();
    const fourth = failTimes(account, 4);
    expect(fourth.events.map((e) => e.type)).toEqual(['VerificationFailed']);
    expect(fourth.outcome).toEqual({ kind: 'invalid-code' });
  });

  it('the fifth consecutive failure locks the factor for one minute', () => {
    const account = enabledAccount();
    failTimes(account, 4);
    account.advance(SECOND);
    const fifth = fail(account);
    expect(fifth.events.map((e) => e.type)).toEqual(['VerificationFailed', 'FactorLocked']);
    expect(fifth.events[1]?.data).toMatchObject({
      consecutiveFailures: 5,
      lockedUntil: iso(account.nowMs + MINUTE),
    });
    expect(fifth.outcome).toEqual({ kind: 'invalid-code' });
  });

  it('while locked every attempt is refused without being checked: even the correct code', () => {
    const account = enabledAccount();
    failTimes(account, 5);
    const lockedUntil = iso(account.nowMs + MINUTE);
    const lastAccepted = account.state.authenticators[0]?.lastAcceptedStep;
    account.advance(10 * SECOND);
    const attempt = account.signIn(account.totp(account.currentCode()));
    expect(attempt.events.map((e) => e.type)).toEqual(['VerificationRefused']);
    expect(attempt.outcome).toEqual({ kind: 'locked', factor: 'app', lockedUntil });
    expect(account.state.authenticators[0]?.lastAcceptedStep).toBe(lastAccepted);
    expect(account.state.lockouts.app.consecutiveFailures).toBe(5);
  });

  it('refused attempts neither count nor lengthen the lock, and only the first is recorded', () => {
    const account = enabledAccount();
    failTimes(account, 5);
    const { consecutiveFailures, lockedUntilMs, permanent } = account.state.lockouts.app;
    const recordedBefore = account.events.length;
    const attempts = Array.from({ length: 20 }, () => fail(account.advance(SECOND)));
    expect(account.state.lockouts.app).toMatchObject({ consecutiveFailures, lockedUntilMs, permanent });
    expect(account.events.length - recordedBefore).toBe(1);
    expect(attempts[0]?.events.map((e) => e.type)).toEqual(['VerificationRefused']);
    expect(attempts.slice(1).every((attempt) => attempt.rejected === 'locked')).toBe(true);
  });

  it('the lock holds until its last millisecond, then codes are checked again', () => {
    const account = enabledAccount();
    failTimes(account, 5);
    const until = account.state.lockouts.app.lockedUntilMs!;
    account.advance(until - 1 - account.nowMs);
    expect(account.signIn(account.totp(account.currentCode())).outcome?.kind).toBe('locked');
    account.advance(1);
    expect(account.signIn(account.totp(account.currentCode())).outcome).toEqual({ kind: 'accepted' });
  });

  it('after the lock ends, five more failures lock for two minutes', () => {
    const account = enabledAccount();
    failTimes(account, 5);
    waitOutLock(account);
    const tenth = failTimes(account, 5);
    expect(tenth.events[1]?.data).toMatchObject({
      consecutiveFailures: 10,
      lockedUntil: iso(account.nowMs + 2 * MINUTE),
    });
  });

  it('each further lock doubles, up to one hour', () => {
    const account = enabledAccount();
    const durations: number[] = [];
    for (let lock = 1; lock <= 19; lock++) {
      const attempt = failTimes(account, 5);
      const locked = attempt.events[1];
      if (locked?.type !== 'FactorLocked' || locked.data.lockedUntil === null) throw new Error('no lock');
      durations.push((Date.parse(locked.data.lockedUntil) - account.nowMs) / MINUTE);
      waitOutLock(account);
    }
    expect(durations).toEqual([1, 2, 4, 8, 16, 32, ...Array(13).fill(60)]);
  });

  it('the 100th consecutive failure locks until an administrator unlocks, however long one waits', () => {
    const account = enabledAccount();
    for (let lock = 1; lock <= 19; lock++) {
      failTimes(account, 5);
      waitOutLock(account);
    }
    const hundredth = failTimes(account, 5);
    expect(hundredth.events.map((e) => e.type)).toEqual(['VerificationFailed', 'FactorLocked']);
    expect(hundredth.events[1]?.data).toMatchObject({ consecutiveFailures: 100, lockedUntil: null });

    account.advance(365 * 24 * HOUR);
    const attempt = account.signIn(account.totp(account.currentCode()));
    expect(attempt.outcome).toEqual({ kind: 'locked', factor: 'app', lockedUntil: null });
    expect(
      twoFactorStatus('user-1', account.state, { nowMs: account.nowMs, requireTwoFactor: false }),
    ).toMatchObject({
      locked: true,
      lockedUntil: null,
    });

    account.unlock();
    expect(account.signIn(account.totp(account.currentCode())).outcome).toEqual({ kind: 'accepted' });
  });

  it('a success resets the count', () => {
    const account = enabledAccount();
    failTimes(account, 4);
    account.advance(SECOND);
    expect(account.signIn(account.totp(account.currentCode())).outcome).toEqual({ kind: 'accepted' });
    account.advance(SECOND);
    const fourthAgain = failTimes(account, 4);
    expect(fourthAgain.events.map((e) => e.type)).toEqual(['VerificationFailed']);
    expect(account.state.lockouts.app.consecutiveFailures).toBe(4);
  });

  it('a recovery-code success resets the recovery codes’ count, not the app’s', () => {
    const account = enabledAccount();
    failTimes(account, 4);
    account.signIn(account.recovery('zzzzz-zzzzz'));
    const codes = account.codesInForce()!;
    expect(account.signIn(account.recovery(codes.codes[0]!)).outcome).toEqual({ kind: 'accepted' });
    expect(account.state.lockouts['recovery-codes'].consecutiveFailures).toBe(0);
    expect(account.state.lockouts.app.consecutiveFailures).toBe(4);
  });

  it('an admin unlock ends a temporary lock and resets the count', () => {
    const account = enabledAccount();
    failTimes(account, 5);
    account.advance(SECOND);
    account.unlock();
    expect(account.state.lockouts.app.consecutiveFailures).toBe(0);
    const fourth = failTimes(account, 4);
    expect(fourth.events.map((e) => e.type)).toEqual(['VerificationFailed']);
  });

  it('failures of every purpose count together against the factor of the code: sign-in, regenerate, disable and replacing the authenticator', () => {
    const account = enabledAccount();
    const wrong = () => account.totp(wrongCodeAt(SECRET_A, account.nowMs));
    account.signIn(wrong());
    account.regenerate(wrong());
    account.disable(wrong());
    account.start(SECRET_B, wrong());
    const recovery = account.signIn(account.recovery('00000-00000'));
    expect(recovery.events.map((e) => e.data)).toMatchObject([
      { factor: 'recovery-codes', consecutiveFailures: 1 },
    ]);
    const fifth = account.start(SECRET_B, wrong());
    expect(fifth.events.map((e) => e.type)).toEqual(['VerificationFailed', 'FactorLocked']);
    expect(
      account.events
        .filter((e): e is VerificationFailed => e.type === 'VerificationFailed' && e.data.factor === 'app')
        .map((e) => e.data.purpose),
    ).toEqual(['sign-in', 'regenerate', 'disable', 'replace-authenticator', 'replace-authenticator']);
  });
});
