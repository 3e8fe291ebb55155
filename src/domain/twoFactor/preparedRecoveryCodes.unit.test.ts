import { describe, expect, it } from 'vitest';
import { T0 } from '../testing/clock.ts';
import { confirmEnrollment, regenerateRecoveryCodes, totpProof } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { verificationFailed, verificationRefused } from '../testing/events.ts';
import { enabled, LOCKED_UNTIL, lockedTemporarily, pendingLive } from '../testing/histories.ts';
import { codeAt, SECRET_A, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';

/**
 * Hashing ten recovery codes is not free, so the handler prepares a new set only when it can
 * be needed. The decisions that cannot issue codes must not need one.
 */
const spec = deciderSpecification(twoFactorDecider);

describe('a new recovery code set is needed only when one is issued', () => {
  it('ConfirmEnrollment: a wrong code is a counted failure without a prepared set', () => {
    spec
      .given(pendingLive)
      .when(
        confirmEnrollment({
          nowMs: T0,
          code: wrongCodeAt(SECRET_A, T0),
          pendingSecretBase32: SECRET_A,
          newRecoveryCodes: null,
        }),
      )
      .then([verificationFailed(T0, 1, 'enrollment')]);
  });

  it('ConfirmEnrollment: nothing pending is still no-pending-enrollment without a prepared set', () => {
    spec
      .given(enabled)
      .when(
        confirmEnrollment({ nowMs: T0, code: '123456', pendingSecretBase32: null, newRecoveryCodes: null }),
      )
      .thenThrows('no-pending-enrollment');
  });

  it('RegenerateRecoveryCodes: a wrong code is a counted failure without a prepared set', () => {
    spec
      .given(enabled)
      .when(
        regenerateRecoveryCodes({
          nowMs: T0,
          proof: totpProof(wrongCodeAt(SECRET_A, T0), SECRET_A),
          newRecoveryCodes: null,
        }),
      )
      .then([verificationFailed(T0, 1, 'regenerate', 'totp')]);
  });

  it('RegenerateRecoveryCodes: a locked factor refuses without a prepared set', () => {
    spec
      .given(lockedTemporarily)
      .when(
        regenerateRecoveryCodes({
          nowMs: T0,
          proof: totpProof(codeAt(SECRET_A, T0), SECRET_A),
          newRecoveryCodes: null,
        }),
      )
      .then([verificationRefused(T0, LOCKED_UNTIL, 'regenerate', 'totp')]);
  });

  it('a right code without a prepared set is a programming error of the caller, and records nothing', () => {
    const state = [...pendingLive].reduce(twoFactorDecider.evolve, twoFactorDecider.initialState());
    expect(() =>
      twoFactorDecider.decide(
        confirmEnrollment({
          nowMs: T0,
          code: codeAt(SECRET_A, T0),
          pendingSecretBase32: SECRET_A,
          newRecoveryCodes: null,
        }),
        state,
      ),
    ).toThrow(/needs a prepared recovery code set/);
    const enabledState = enabled.reduce(twoFactorDecider.evolve, twoFactorDecider.initialState());
    expect(() =>
      twoFactorDecider.decide(
        regenerateRecoveryCodes({
          nowMs: T0,
          proof: totpProof(codeAt(SECRET_A, T0), SECRET_A),
          newRecoveryCodes: null,
        }),
        enabledState,
      ),
    ).toThrow(/needs a prepared recovery code set/);
  });
});
