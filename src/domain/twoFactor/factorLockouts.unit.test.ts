import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { HOUR, iso, MINUTE, SECOND, STEP_MS, stepAt, T0 } from '../testing/clock.ts';
import {
  confirmEnrollment,
  disableTwoFactor,
  regenerateRecoveryCodes,
  startEnrollment,
  totpProof,
  unlockFactor,
  verifySignIn,
} from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  authenticatorReplaced,
  codesRegenerated,
  enrollmentStarted,
  factorLocked,
  lockoutCleared,
  recoveryCodeConsumed,
  signInVerified,
  twoFactorDisabled,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import {
  enabledWithPendingReplacement,
  LOCKED_AT,
  LOCKED_UNTIL,
  lockedTemporarily,
  lockedUntilAdmin,
  pendingLive,
  REPLACEMENT_STARTED_AT,
  recoveryCodesDisabled,
  recoveryCodesLockedTemporarily,
  SEALED_B,
  STEP_NOW,
} from '../testing/histories.ts';
import { WEB } from '../testing/metadata.ts';
import { CODES_1, CODES_2, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, SECRET_B, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';
import { FAILURES_BEFORE_PERMANENT_LOCK, isLocked } from './lockout.ts';
import { twoFactorStatus } from './status.ts';

/*
 * Each factor — the authenticator app (TOTP codes) and the recovery codes — is locked on its
 * own (NIST SP 800-63B rev. 4 §5.2.2): its own count of consecutive failures, its own locks
 * (5 failures: 1 minute, doubling up to 1 hour), disabled at 100. One never blocks the other.
 */

const spec = deciderSpecification(twoFactorDecider);

const totp = (code: string, nowMs = T0) => verifySignIn({ nowMs, proof: totpProof(code, SECRET_A) });
const recovery = (code: string, nowMs = T0) =>
  verifySignIn({ nowMs, proof: recoveryCodeProof(CODES_1.set, code) });
const WRONG_RECOVERY_CODE = CODES_2.codes[0]!;

const statusOf = (state: Parameters<typeof twoFactorStatus>[1], nowMs = T0) =>
  twoFactorStatus('user-1', state, { nowMs, requireTwoFactor: false });

describe('the authenticator app locked for a while', () => {
  it('refuses TOTP codes unchecked, and says it is the app', () => {
    spec
      .given(lockedTemporarily)
      .when(totp(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, LOCKED_UNTIL)]);
  });

  it('checks a recovery code, which signs in and ends the app’s lock; the app’s count goes on', () => {
    const { state } = spec
      .given(lockedTemporarily)
      .when(recovery(CODES_1.codes[0]!))
      .then([
        recoveryCodeConsumed(T0, 0, 9, 'sign-in', 'lock-ended'),
        signInVerified(T0, 'recovery-code', null),
      ]);
    expect(isLocked(state.lockouts.app, T0)).toBe(false);
    expect(state.lockouts.app.consecutiveFailures).toBe(5);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(0);
  });

  it('counts a wrong recovery code against the recovery codes only', () => {
    const { state } = spec
      .given(lockedTemporarily)
      .when(recovery(WRONG_RECOVERY_CODE))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
    expect(state.lockouts.app.consecutiveFailures).toBe(5);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(1);
  });

  it('after its lock ends, its next failures count on from where they were: the tenth locks for two minutes', () => {
    const after = LOCKED_UNTIL + SECOND;
    const history = [...lockedTemporarily, ...[6, 7, 8, 9].map((n) => verificationFailed(after + n, n))];
    spec
      .given(history)
      .when(totp(wrongCodeAt(SECRET_A, after + 10), after + 10))
      .then([verificationFailed(after + 10, 10), factorLocked(after + 10, 10, after + 10 + 2 * MINUTE)]);
  });

  it('refuses an enrollment confirmation, which is an app code', () => {
    const history = [...lockedTemporarily, enrollmentStarted(LOCKED_AT + SECOND, SEALED_B, null)];
    spec
      .given(history)
      .when(
        confirmEnrollment({
          nowMs: T0,
          code: codeAt(SECRET_B, T0),
          pendingSecretBase32: SECRET_B,
          newRecoveryCodes: CODES_2.set,
        }),
      )
      .then([verificationRefused(T0, LOCKED_UNTIL, 'replace-authenticator')]);
  });
});

describe('the authenticator app disabled after 100 failures', () => {
  it('refuses TOTP codes with no end to the lock', () => {
    spec
      .given(lockedUntilAdmin)
      .when(totp(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, null)]);
  });

  it('a right recovery code signs in, and the app stays disabled', () => {
    const { state } = spec
      .given(lockedUntilAdmin)
      .when(recovery(CODES_1.codes[3]!))
      .then([recoveryCodeConsumed(T0, 3, 9, 'sign-in', 'kept'), signInVerified(T0, 'recovery-code', null)]);
    expect(statusOf(state)).toMatchObject({ locked: true, lockedUntil: null, recoveryCodesLocked: false });
  });

  it('a wrong recovery code is checked and counted against the recovery codes, not refused', () => {
    spec
      .given(lockedUntilAdmin)
      .when(recovery(WRONG_RECOVERY_CODE))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });

  it('a replacement proven with a recovery code lifts it, and the new app confirms', () => {
    const started = spec
      .given(lockedUntilAdmin)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[5]!),
        }),
      )
      .then([
        recoveryCodeConsumed(T0, 5, 9, 'replace-authenticator', 'kept'),
        enrollmentStarted(T0, SEALED_B, { method: 'recovery-code', step: null }),
      ]);
    expect(isLocked(started.state.lockouts.app, T0)).toBe(false);
    const at = T0 + 20 * SECOND;
    spec
      .given([...lockedUntilAdmin, ...started.events])
      .when(
        confirmEnrollment({
          nowMs: at,
          code: codeAt(SECRET_B, at),
          pendingSecretBase32: SECRET_B,
          newRecoveryCodes: CODES_2.set,
        }),
      )
      .then([authenticatorReplaced(at, SEALED_B, stepAt(at), CODES_2.set)]);
  });

  it('an administrator’s unlock clears it, and says which factor was locked', () => {
    const { state } = spec
      .given(lockedUntilAdmin)
      .when(unlockFactor({ nowMs: T0 }))
      .then([lockoutCleared(T0, true, ['app'])]);
    expect(statusOf(state).locked).toBe(false);
  });
});

describe('the recovery codes locked for a while', () => {
  it('refuse a recovery code unchecked — even a right one — and say it is the recovery codes', () => {
    spec
      .given(recoveryCodesLockedTemporarily)
      .when(recovery(CODES_1.codes[0]!))
      .then([verificationRefused(T0, LOCKED_UNTIL, 'sign-in', 'recovery-code')]);
  });

  it('record only the first refusal of the lock; the rest are counted', () => {
    spec
      .given([
        ...recoveryCodesLockedTemporarily,
        verificationRefused(T0 - SECOND, LOCKED_UNTIL, 'sign-in', 'recovery-code'),
      ])
      .when(recovery(WRONG_RECOVERY_CODE))
      .thenThrows('locked');
  });

  it('never block the app: a TOTP code signs in, and the recovery codes stay locked', () => {
    const { state } = spec
      .given(recoveryCodesLockedTemporarily)
      .when(totp(codeAt(SECRET_A, T0)))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
    expect(statusOf(state)).toMatchObject({
      locked: false,
      recoveryCodesLocked: true,
      recoveryCodesLockedUntil: iso(LOCKED_UNTIL),
    });
  });

  it('a wrong TOTP code counts against the app only', () => {
    const { state } = spec
      .given(recoveryCodesLockedTemporarily)
      .when(totp(wrongCodeAt(SECRET_A, T0)))
      .then([verificationFailed(T0, 1)]);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(5);
  });

  it('are checked again from the lock’s end, and five more failures lock them for two minutes', () => {
    const after = LOCKED_UNTIL;
    const history = [
      ...recoveryCodesLockedTemporarily,
      ...[6, 7, 8, 9].map((n) => verificationFailed(after + n, n, 'sign-in', 'recovery-code')),
    ];
    spec
      .given(history)
      .when(recovery(WRONG_RECOVERY_CODE, after + 10))
      .then([
        verificationFailed(after + 10, 10, 'sign-in', 'recovery-code'),
        factorLocked(after + 10, 10, after + 10 + 2 * MINUTE, 'recovery-codes'),
      ]);
  });

  it('a replacement may still be proven with a TOTP code, not with a recovery code', () => {
    spec
      .given(recoveryCodesLockedTemporarily)
      .when(
        startEnrollment({ nowMs: T0, newSecret: SEALED_B, proof: totpProof(codeAt(SECRET_A, T0), SECRET_A) }),
      )
      .then([enrollmentStarted(T0, SEALED_B, { method: 'totp', step: STEP_NOW })]);
    spec
      .given(recoveryCodesLockedTemporarily)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!),
        }),
      )
      .then([verificationRefused(T0, LOCKED_UNTIL, 'replace-authenticator', 'recovery-code')]);
  });
});

describe('the recovery codes disabled after 100 failures', () => {
  it('are never checked again, however long one waits: a right code is refused with no end to the lock', () => {
    const aYearLater = T0 + 365 * 24 * HOUR;
    spec
      .given(recoveryCodesDisabled)
      .when(recovery(CODES_1.codes[0]!, aYearLater))
      .then([verificationRefused(aYearLater, null, 'sign-in', 'recovery-code')]);
    spec
      .given(recoveryCodesDisabled)
      .when(disableTwoFactor({ nowMs: T0, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!) }))
      .then([verificationRefused(T0, null, 'disable', 'recovery-code')]);
  });

  it('leave the app as it was: a TOTP code signs in, disables, or regenerates', () => {
    spec
      .given(recoveryCodesDisabled)
      .when(totp(codeAt(SECRET_A, T0)))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
    spec
      .given(recoveryCodesDisabled)
      .when(disableTwoFactor({ nowMs: T0, proof: totpProof(codeAt(SECRET_A, T0), SECRET_A) }))
      .then([twoFactorDisabled(T0, 'totp', STEP_NOW)]);
  });

  it('regenerating them with a TOTP code brings fresh codes that work', () => {
    const { state } = spec
      .given(recoveryCodesDisabled)
      .when(
        regenerateRecoveryCodes({
          nowMs: T0,
          proof: totpProof(codeAt(SECRET_A, T0), SECRET_A),
          newRecoveryCodes: CODES_2.set,
        }),
      )
      .then([codesRegenerated(T0, STEP_NOW, CODES_2.set)]);
    expect(statusOf(state).recoveryCodesLocked).toBe(false);
    spec
      .given([...recoveryCodesDisabled, codesRegenerated(T0, STEP_NOW, CODES_2.set)])
      .when(verifySignIn({ nowMs: T0 + SECOND, proof: recoveryCodeProof(CODES_2.set, CODES_2.codes[1]!) }))
      .then([
        recoveryCodeConsumed(T0 + SECOND, 1, 9, 'sign-in'),
        signInVerified(T0 + SECOND, 'recovery-code', null),
      ]);
  });

  it('an administrator’s unlock clears both factors’ lockouts at once', () => {
    const bothLocked = [
      ...recoveryCodesDisabled,
      ...[1, 2, 3, 4].map((n) => verificationFailed(T0 - 10 * SECOND + n, n)),
      verificationFailed(T0 - 5 * SECOND, 5),
      factorLocked(T0 - 5 * SECOND, 5, T0 + 55 * SECOND),
    ];
    const { state } = spec
      .given(bothLocked)
      .when(unlockFactor({ nowMs: T0 }))
      .then([lockoutCleared(T0, true, ['app', 'recovery-codes'])]);
    expect(state.lockouts.app.consecutiveFailures).toBe(0);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(0);
    expect(statusOf(state)).toMatchObject({ locked: false, recoveryCodesLocked: false });
  });

  it('a confirmed replacement issues fresh codes, which work', () => {
    const replacing = [
      ...recoveryCodesDisabled,
      enrollmentStarted(REPLACEMENT_STARTED_AT, SEALED_B, { method: 'totp', step: STEP_NOW - 4 }),
      authenticatorReplaced(T0 - SECOND, SEALED_B, STEP_NOW, CODES_2.set),
    ];
    spec
      .given(replacing)
      .when(verifySignIn({ nowMs: T0, proof: recoveryCodeProof(CODES_2.set, CODES_2.codes[0]!) }))
      .then([recoveryCodeConsumed(T0, 0, 9, 'sign-in'), signInVerified(T0, 'recovery-code', null)]);
  });
});

describe('the status document names the locked factor', () => {
  it.each([
    [
      'the app for a while',
      lockedTemporarily,
      {
        locked: true,
        lockedUntil: iso(LOCKED_UNTIL),
        recoveryCodesLocked: false,
        recoveryCodesLockedUntil: null,
      },
    ],
    [
      'the app for good',
      lockedUntilAdmin,
      { locked: true, lockedUntil: null, recoveryCodesLocked: false, recoveryCodesLockedUntil: null },
    ],
    [
      'the recovery codes for a while',
      recoveryCodesLockedTemporarily,
      {
        locked: false,
        lockedUntil: null,
        recoveryCodesLocked: true,
        recoveryCodesLockedUntil: iso(LOCKED_UNTIL),
      },
    ],
    [
      'the recovery codes for good',
      recoveryCodesDisabled,
      { locked: false, lockedUntil: null, recoveryCodesLocked: true, recoveryCodesLockedUntil: null },
    ],
  ])('%s', (_name, history, expected) => {
    const state = history.reduce(twoFactorDecider.evolve, twoFactorDecider.initialState());
    expect(statusOf(state)).toMatchObject(expected);
  });
});

describe('a failed enrollment confirmation counts against the app', () => {
  it('a first enrollment’s wrong code is an app failure', () => {
    spec
      .given(pendingLive)
      .when(
        confirmEnrollment({
          nowMs: T0,
          code: wrongCodeAt(SECRET_A, T0),
          pendingSecretBase32: SECRET_A,
          newRecoveryCodes: CODES_1.set,
        }),
      )
      .then([verificationFailed(T0, 1, 'enrollment')]);
  });

  it('a replacement’s wrong code is an app failure, and leaves the recovery codes’ count alone', () => {
    const history = [
      ...enabledWithPendingReplacement,
      verificationFailed(T0 - SECOND, 1, 'sign-in', 'recovery-code'),
    ];
    const { state } = spec
      .given(history)
      .when(
        confirmEnrollment({
          nowMs: T0,
          code: wrongCodeAt(SECRET_B, T0),
          pendingSecretBase32: SECRET_B,
          newRecoveryCodes: CODES_2.set,
        }),
      )
      .then([verificationFailed(T0, 1, 'replace-authenticator')]);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(1);
  });
});

describe('a flood of wrong recovery codes: 110 from six addresses within seconds, then one every ten seconds for an hour', () => {
  const ADDRESSES = [
    '198.51.100.1',
    '198.51.100.2',
    '198.51.100.3',
    '2001:db8:1::1',
    '2001:db8:2::1',
    '203.0.113.9',
  ];
  const from = (n: number) => ({ ...WEB, endUserIp: ADDRESSES[n % ADDRESSES.length]! });

  function floodedAccount() {
    const account = new TwoFactorAccount(T0 - 10 * MINUTE);
    account.enable(SECRET_A);
    account.advance(T0 - account.nowMs);
    return account;
  }

  it('the recovery codes lock after five; the other 105 are refused unchecked, and the app signs in', () => {
    const account = floodedAccount();
    const outcomes = Array.from({ length: 110 }, (_, n) => {
      account.advance(100);
      return account.signIn(account.recovery(`zzzzz-${String(n).padStart(5, '0')}`), from(n));
    });
    const checked = account.events.filter((e) => e.type === 'VerificationFailed');
    expect(checked).toHaveLength(5);
    expect(outcomes.slice(5).every((o) => o.outcome?.kind === 'locked' || o.rejected === 'locked')).toBe(
      true,
    );
    expect(statusOf(account.state, account.nowMs)).toMatchObject({
      locked: false,
      recoveryCodesLocked: true,
      recoveryCodesLockedUntil: iso(T0 + 500 + MINUTE),
    });
    const signIn = account.advance(STEP_MS).signIn(account.totp(account.currentCode()));
    expect(signIn.outcome).toEqual({ kind: 'accepted' });
  });

  it('kept up for an hour, the recovery codes lock for 1, 2, 4, 8, 16 and 32 minutes and are not disabled; the app works throughout', () => {
    const account = floodedAccount();
    for (let n = 0; n < 110; n++) {
      account.advance(100);
      account.signIn(account.recovery(`zzzzz-${String(n).padStart(5, '0')}`), from(n));
    }
    const hourLater = T0 + HOUR;
    let n = 110;
    let signIns = 0;
    while (account.nowMs < hourLater) {
      account.advance(10 * SECOND);
      account.signIn(account.recovery(`zzzzz-${String(n).padStart(5, '0')}`), from(n));
      n++;
      if (n % 30 === 0) {
        // Every five minutes the user signs in with the app, as if nothing were happening.
        const signIn = account.advance(STEP_MS).signIn(account.totp(account.currentCode()));
        expect(signIn.outcome).toEqual({ kind: 'accepted' });
        signIns++;
      }
    }
    expect(signIns).toBeGreaterThan(10);
    const locks = account.events.filter((e) => e.type === 'FactorLocked');
    expect(locks.every((e) => e.data.factor === 'recovery-codes')).toBe(true);
    expect(locks.map((e) => (Date.parse(e.data.lockedUntil ?? '') - Date.parse(e.data.at)) / MINUTE)).toEqual(
      [1, 2, 4, 8, 16, 32],
    );
    const counted = account.state.lockouts['recovery-codes'].consecutiveFailures;
    expect(counted).toBe(30);
    expect(counted).toBeLessThan(FAILURES_BEFORE_PERMANENT_LOCK);
    expect(account.state.lockouts['recovery-codes'].permanent).toBe(false);
    expect(account.state.lockouts.app.consecutiveFailures).toBe(0);
  });
});
