import { describe, expect, it } from 'vitest';
import { SECOND, T0 } from '../testing/clock.ts';
import { disableTwoFactor, totpProof, verifySignIn } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  recoveryCodeConsumed,
  signInVerified,
  twoFactorDisabled,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import {
  afterAdminReset,
  disabledAfterEnabled,
  enabled,
  enabledWithPendingReplacement,
  LOCKED_UNTIL,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  pendingExpired,
  pendingLive,
  STEP_NOW,
} from '../testing/histories.ts';
import { CODES_1, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';
import { initialState } from './state.ts';

const spec = deciderSpecification(twoFactorDecider);

const disableWith = (code: string, requireTwoFactor = false, nowMs = T0) =>
  disableTwoFactor({ nowMs, proof: totpProof(code, SECRET_A), requireTwoFactor });

describe('DisableTwoFactor', () => {
  it('a current authenticator code disables two-factor and forgets the authenticator and codes', () => {
    const { state } = spec
      .given(enabled)
      .when(disableWith(codeAt(SECRET_A, T0)))
      .then([twoFactorDisabled(T0, 'totp', STEP_NOW)]);
    expect(state).toEqual(initialState());
  });

  it('a recovery code disables two-factor, consuming the code', () => {
    spec
      .given(enabled)
      .when(disableTwoFactor({ nowMs: T0, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[7]!) }))
      .then([recoveryCodeConsumed(T0, 7, 9, 'disable'), twoFactorDisabled(T0, 'recovery-code', null)]);
  });

  it('when the instance requires two-factor: two-factor-required, recording nothing, even with a correct code', () => {
    spec
      .given(enabled)
      .when(disableWith(codeAt(SECRET_A, T0), true))
      .thenThrows('two-factor-required');
  });

  it('when the instance requires two-factor: a wrong code is not even counted', () => {
    spec
      .given(enabled)
      .when(disableWith(wrongCodeAt(SECRET_A, T0), true))
      .thenThrows('two-factor-required');
  });

  it('a wrong code is a counted failure and two-factor stays on', () => {
    const { state } = spec
      .given(enabled)
      .when(disableWith(wrongCodeAt(SECRET_A, T0)))
      .then([verificationFailed(T0, 1, 'disable', 'totp')]);
    expect(state.enabled).toBe(true);
  });

  it('a consumed recovery code is refused as already used, and not counted', () => {
    spec
      .given([...enabled, recoveryCodeConsumed(T0 - SECOND, 7, 9, 'sign-in')])
      .when(disableTwoFactor({ nowMs: T0, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[7]!) }))
      .thenThrows('code-already-used');
  });

  it('the code just used for sign-in is refused as already used, and not counted', () => {
    spec
      .given([...enabled, signInVerified(T0 - SECOND, 'totp', STEP_NOW)])
      .when(disableWith(codeAt(SECRET_A, T0)))
      .thenThrows('code-already-used');
  });

  it('enabled with a pending replacement: disabling drops the pending replacement too', () => {
    const { state } = spec
      .given(enabledWithPendingReplacement)
      .when(disableWith(codeAt(SECRET_A, T0)))
      .then([twoFactorDisabled(T0, 'totp', STEP_NOW)]);
    expect(state.pending).toBeNull();
  });

  it('locked temporarily: refused without checking the code', () => {
    spec
      .given(lockedTemporarily)
      .when(disableWith(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, LOCKED_UNTIL, 'disable', 'totp')]);
  });

  it('locked until admin: refused without checking the code', () => {
    spec
      .given(lockedUntilAdmin)
      .when(disableWith(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, null, 'disable', 'totp')]);
  });

  it.each([
    ['never enrolled', neverEnrolled],
    ['pending', pendingLive],
    ['pending but expired', pendingExpired],
    ['disabled after having been enabled', disabledAfterEnabled],
    ['after admin reset', afterAdminReset],
  ])('%s: not-enabled', (_name, history) => {
    spec
      .given(history)
      .when(disableWith(codeAt(SECRET_A, T0)))
      .thenThrows('not-enabled');
  });

  it('after disabling, sign-in answers not-enabled and the old codes are of no use', () => {
    const disabled = [...enabled, twoFactorDisabled(T0, 'totp', STEP_NOW)];
    const later = T0 + 60 * SECOND;
    spec
      .given(disabled)
      .when(verifySignIn({ nowMs: later, proof: totpProof(codeAt(SECRET_A, later), SECRET_A) }))
      .thenThrows('not-enabled');
    spec
      .given(disabled)
      .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!) }))
      .thenThrows('not-enabled');
  });
});
