import { describe, expect, it } from 'vitest';
import { MINUTE, SECOND, STEP_MS, T0 } from '../testing/clock.ts';
import { totpProof, verifySignIn } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  codesRegenerated,
  enrollmentStarted,
  factorLocked,
  recoveryCodeConsumed,
  signInVerified,
  twoFactorEnabled,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import {
  afterAdminReset,
  disabledAfterEnabled,
  enabled,
  enabledWithPendingReplacement,
  LOCKED_AT,
  LOCKED_UNTIL,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  pendingExpired,
  pendingLive,
  SEALED_A,
  STEP_NOW,
} from '../testing/histories.ts';
import { CODES_1, CODES_2, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, SECRET_B, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';
import { isLocked } from './lockout.ts';

const spec = deciderSpecification(twoFactorDecider);

const withCode = (code: string, nowMs = T0) => verifySignIn({ nowMs, proof: totpProof(code, SECRET_A) });
const withRecoveryCode = (code: string, nowMs = T0) =>
  verifySignIn({ nowMs, proof: recoveryCodeProof(CODES_1.set, code) });

describe('VerifySignIn with an authenticator code', () => {
  it('enabled: the current code verifies the sign-in and records its step', () => {
    spec
      .given(enabled)
      .when(withCode(codeAt(SECRET_A, T0)))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
  });

  it('enabled: a code one step behind or ahead (clock drift) is accepted', () => {
    spec
      .given(enabled)
      .when(withCode(codeAt(SECRET_A, T0, -1)))
      .then([signInVerified(T0, 'totp', STEP_NOW - 1)]);
    spec
      .given(enabled)
      .when(withCode(codeAt(SECRET_A, T0, 1)))
      .then([signInVerified(T0, 'totp', STEP_NOW + 1)]);
  });

  it('enabled: a code two steps behind or ahead is refused', () => {
    spec
      .given(enabled)
      .when(withCode(codeAt(SECRET_A, T0, -2)))
      .then([verificationFailed(T0, 1)]);
    spec
      .given(enabled)
      .when(withCode(codeAt(SECRET_A, T0, 2)))
      .then([verificationFailed(T0, 1)]);
  });

  it('enabled: a wrong code is a counted failure', () => {
    const { state } = spec
      .given(enabled)
      .when(withCode(wrongCodeAt(SECRET_A, T0)))
      .then([verificationFailed(T0, 1)]);
    expect(state.lockouts.app.consecutiveFailures).toBe(1);
  });

  it('enabled: without the decrypted secret nothing can match, so it is a failure', () => {
    spec
      .given(enabled)
      .when(verifySignIn({ nowMs: T0, proof: totpProof(codeAt(SECRET_A, T0), null) }))
      .then([verificationFailed(T0, 1)]);
  });

  it('the same code again is refused as already used: a code works once, and a double submit is no guess', () => {
    spec
      .given([...enabled, signInVerified(T0, 'totp', STEP_NOW)])
      .when(withCode(codeAt(SECRET_A, T0), T0 + 5 * SECOND))
      .thenThrows('code-already-used');
  });

  it('a code older than the last accepted one is refused, even within the ±1 window', () => {
    // the user's phone ran ahead: the code of the next step was accepted
    spec
      .given([...enabled, signInVerified(T0, 'totp', STEP_NOW + 1)])
      .when(withCode(codeAt(SECRET_A, T0), T0 + SECOND))
      .then([verificationFailed(T0 + SECOND, 1)]);
  });

  it('a later code than the last accepted one works', () => {
    spec
      .given([...enabled, signInVerified(T0, 'totp', STEP_NOW)])
      .when(withCode(codeAt(SECRET_A, T0 + STEP_MS), T0 + STEP_MS))
      .then([signInVerified(T0 + STEP_MS, 'totp', STEP_NOW + 1)]);
  });

  it('the code that confirmed the enrollment cannot be reused for sign-in', () => {
    const confirmedJustNow = [
      enrollmentStarted(T0 - 60 * SECOND, SEALED_A),
      twoFactorEnabled(T0, SEALED_A, STEP_NOW, CODES_1.set),
    ];
    spec
      .given(confirmedJustNow)
      .when(withCode(codeAt(SECRET_A, T0), T0 + 5 * SECOND))
      .thenThrows('code-already-used');
  });

  it('a success resets the count of consecutive failures', () => {
    const { state } = spec
      .given([...enabled, verificationFailed(T0 - 2 * SECOND, 1), verificationFailed(T0 - SECOND, 2)])
      .when(withCode(codeAt(SECRET_A, T0)))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
    expect(state.lockouts.app.consecutiveFailures).toBe(0);
  });

  it('enabled with a pending replacement: the current authenticator still works until the new one is confirmed', () => {
    spec
      .given(enabledWithPendingReplacement)
      .when(withCode(codeAt(SECRET_A, T0)))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
  });

  it('enabled with a pending replacement: the pending authenticator does not work yet', () => {
    spec
      .given(enabledWithPendingReplacement)
      .when(verifySignIn({ nowMs: T0, proof: totpProof(codeAt(SECRET_B, T0), SECRET_A) }))
      .then([verificationFailed(T0, 1)]);
  });
});

describe('VerifySignIn with a recovery code', () => {
  it('an unused recovery code is consumed, with the number remaining, and verifies the sign-in', () => {
    const { state } = spec
      .given(enabled)
      .when(withRecoveryCode(CODES_1.codes[4]!))
      .then([recoveryCodeConsumed(T0, 4, 9, 'sign-in'), signInVerified(T0, 'recovery-code', null)]);
    expect(state.recoveryCodes?.used).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('is matched case-insensitively, ignoring spaces and dashes', () => {
    const typed = ` ${CODES_1.codes[4]!.toUpperCase().replace('-', ' - ')} `;
    spec
      .given(enabled)
      .when(withRecoveryCode(typed))
      .then([recoveryCodeConsumed(T0, 4, 9, 'sign-in'), signInVerified(T0, 'recovery-code', null)]);
  });

  it('counts down what remains', () => {
    spec
      .given([
        ...enabled,
        recoveryCodeConsumed(T0 - 2, 0, 9, 'sign-in'),
        recoveryCodeConsumed(T0 - 1, 1, 8, 'sign-in'),
      ])
      .when(withRecoveryCode(CODES_1.codes[2]!))
      .then([recoveryCodeConsumed(T0, 2, 7, 'sign-in'), signInVerified(T0, 'recovery-code', null)]);
  });

  it('the recovery code just used does not work again: refused as already used, and not counted', () => {
    spec
      .given([
        ...enabled,
        recoveryCodeConsumed(T0 - 1, 4, 9, 'sign-in'),
        signInVerified(T0 - 1, 'recovery-code', null),
      ])
      .when(withRecoveryCode(CODES_1.codes[4]!))
      .thenThrows('code-already-used');
  });

  it('the code used last, sent again after two minutes, is a counted failure', () => {
    spec
      .given([...enabled, recoveryCodeConsumed(T0 - 2 * MINUTE - 1, 4, 9, 'sign-in')])
      .when(withRecoveryCode(CODES_1.codes[4]!))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });

  it('a code used before the last one is a counted failure, not a free check', () => {
    spec
      .given([
        ...enabled,
        recoveryCodeConsumed(T0 - 2 * SECOND, 1, 9, 'sign-in'),
        recoveryCodeConsumed(T0 - SECOND, 2, 8, 'sign-in'),
      ])
      .when(withRecoveryCode(CODES_1.codes[1]!))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });

  it('a used code of an earlier set is a counted failure: only the set in force is known', () => {
    spec
      .given([...enabled, codesRegenerated(T0 - SECOND, STEP_NOW - 1, CODES_2.set)])
      .when(verifySignIn({ nowMs: T0, proof: recoveryCodeProof(CODES_2.set, CODES_1.codes[0]!) }))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });

  it('the last recovery code works, leaving none', () => {
    const allButLast = Array.from({ length: 9 }, (_, i) =>
      recoveryCodeConsumed(T0 - 10 + i, i, 9 - i, 'sign-in'),
    );
    spec
      .given([...enabled, ...allButLast])
      .when(withRecoveryCode(CODES_1.codes[9]!))
      .then([recoveryCodeConsumed(T0, 9, 0, 'sign-in'), signInVerified(T0, 'recovery-code', null)]);
  });

  it('a code of another set does not work', () => {
    spec
      .given(enabled)
      .when(withRecoveryCode(CODES_2.codes[0]!))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });

  it('input that cannot be a recovery code (no digest) is a counted failure', () => {
    spec
      .given(enabled)
      .when(verifySignIn({ nowMs: T0, proof: { method: 'recovery-code', digest: null } }))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });
});

describe('VerifySignIn while locked', () => {
  it('locked temporarily: even the correct code is refused without being checked', () => {
    const { state } = spec
      .given(lockedTemporarily)
      .when(withCode(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, LOCKED_UNTIL)]);
    expect(state.authenticators[0]?.lastAcceptedStep).not.toBe(STEP_NOW);
  });

  it('locked temporarily: a recovery code is still checked, lets the user in, and ends the lock', () => {
    const { state } = spec
      .given(lockedTemporarily)
      .when(withRecoveryCode(CODES_1.codes[0]!))
      .then([
        recoveryCodeConsumed(T0, 0, 9, 'sign-in', 'lock-ended'),
        signInVerified(T0, 'recovery-code', null),
      ]);
    expect(isLocked(state.lockouts.app, T0)).toBe(false);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(0);
  });

  it('locked temporarily: a wrong recovery code counts against the recovery codes, whose fifth locks them', () => {
    const history = [
      ...lockedTemporarily,
      ...[1, 2, 3, 4].map((n) => verificationFailed(T0 - (10 - n) * SECOND, n, 'sign-in', 'recovery-code')),
    ];
    spec
      .given(history)
      .when(withRecoveryCode(CODES_2.codes[0]!))
      .then([
        verificationFailed(T0, 5, 'sign-in', 'recovery-code'),
        factorLocked(T0, 5, T0 + MINUTE, 'recovery-codes'),
      ]);
  });

  it('locked temporarily: only the first refused TOTP code of a lock is recorded; later ones are counted', () => {
    spec
      .given([...lockedTemporarily, verificationRefused(T0 - SECOND, LOCKED_UNTIL)])
      .when(withCode(codeAt(SECRET_A, T0)))
      .thenThrows('locked');
  });

  it('a new lock records its first refusal again', () => {
    const relocked = [
      ...lockedTemporarily,
      verificationRefused(LOCKED_AT + SECOND, LOCKED_UNTIL),
      ...[6, 7, 8, 9, 10].map((n) => verificationFailed(LOCKED_UNTIL + n * SECOND, n)),
      factorLocked(LOCKED_UNTIL + 10 * SECOND, 10, LOCKED_UNTIL + 10 * SECOND + 2 * MINUTE),
    ];
    const at = LOCKED_UNTIL + 20 * SECOND;
    spec
      .given(relocked)
      .when(withCode(codeAt(SECRET_A, at), at))
      .then([verificationRefused(at, LOCKED_UNTIL + 10 * SECOND + 2 * MINUTE)]);
  });

  it('locked temporarily: once the lock ends the code is checked again', () => {
    spec
      .given(lockedTemporarily)
      .when(withCode(codeAt(SECRET_A, LOCKED_UNTIL), LOCKED_UNTIL))
      .thenSatisfies((events) => expect(events.map((e) => e.type)).toEqual(['SignInVerified']));
  });

  it('locked until an admin unlocks: refused, with no end to the lock', () => {
    spec
      .given(lockedUntilAdmin)
      .when(withCode(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, null)]);
  });

  it('locked until an admin unlocks: a recovery code still lets the user in; the app stays locked', () => {
    const { state } = spec
      .given(lockedUntilAdmin)
      .when(withRecoveryCode(CODES_1.codes[3]!))
      .then([recoveryCodeConsumed(T0, 3, 9, 'sign-in', 'kept'), signInVerified(T0, 'recovery-code', null)]);
    expect(isLocked(state.lockouts.app, T0)).toBe(true);
  });

  it('locked until an admin unlocks: a wrong recovery code is checked and counted against the recovery codes', () => {
    spec
      .given(lockedUntilAdmin)
      .when(withRecoveryCode(CODES_2.codes[0]!))
      .then([verificationFailed(T0, 1, 'sign-in', 'recovery-code')]);
  });
});

describe('VerifySignIn when two-factor is not enabled', () => {
  it.each([
    ['never enrolled', neverEnrolled],
    ['pending', pendingLive],
    ['pending but expired', pendingExpired],
    ['disabled after having been enabled', disabledAfterEnabled],
    ['after admin reset', afterAdminReset],
  ])('%s: not-enabled', (_name, history) => {
    spec
      .given(history)
      .when(withCode(codeAt(SECRET_A, T0)))
      .thenThrows('not-enabled');
    spec.given(history).when(withRecoveryCode(CODES_1.codes[0]!)).thenThrows('not-enabled');
  });
});
