import { describe, expect, it } from 'vitest';
import { MINUTE, stepAt, T0 } from '../testing/clock.ts';
import {
  confirmEnrollment,
  resetTwoFactor,
  startEnrollment,
  totpProof,
  verifySignIn,
} from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { adminReset, enrollmentStarted, twoFactorEnabled } from '../testing/events.ts';
import {
  afterAdminReset,
  disabledAfterEnabled,
  enabled,
  enabledWithPendingReplacement,
  type History,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  pendingExpired,
  pendingLive,
  SEALED_B,
} from '../testing/histories.ts';
import { CODES_1, CODES_2, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, SECRET_B } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';
import { initialState } from './state.ts';

const spec = deciderSpecification(twoFactorDecider);
const reset = resetTwoFactor({ nowMs: T0, reason: 'lost phone and codes' });

describe('ResetTwoFactor: the emergency reset by an administrator', () => {
  it.each<[string, History, 'disabled' | 'pending' | 'enabled']>([
    ['never enrolled', neverEnrolled, 'disabled'],
    ['pending', pendingLive, 'pending'],
    ['pending but expired', pendingExpired, 'disabled'],
    ['enabled', enabled, 'enabled'],
    ['enabled with a pending replacement', enabledWithPendingReplacement, 'enabled'],
    ['locked temporarily', lockedTemporarily, 'enabled'],
    ['locked until admin', lockedUntilAdmin, 'enabled'],
    ['disabled after having been enabled', disabledAfterEnabled, 'disabled'],
    ['after an earlier admin reset', afterAdminReset, 'disabled'],
  ])('%s: works, recording the status it reset (%s)', (_name, history, previousStatus) => {
    const { state } = spec
      .given(history)
      .when(reset)
      .then([adminReset(T0, previousStatus)]);
    expect(state).toEqual(initialState());
  });

  describe('afterwards', () => {
    const wasReset = [...enabledWithPendingReplacement, adminReset(T0, 'enabled')];
    const later = T0 + MINUTE;

    it('the authenticator no longer works: not-enabled', () => {
      spec
        .given(wasReset)
        .when(verifySignIn({ nowMs: later, proof: totpProof(codeAt(SECRET_A, later), SECRET_A) }))
        .thenThrows('not-enabled');
    });

    it('the recovery codes no longer work: not-enabled', () => {
      spec
        .given(wasReset)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!) }))
        .thenThrows('not-enabled');
    });

    it('the pending replacement was dropped: no-pending-enrollment', () => {
      spec
        .given(wasReset)
        .when(
          confirmEnrollment({
            nowMs: later,
            code: codeAt(SECRET_B, later),
            pendingSecretBase32: SECRET_B,
            newRecoveryCodes: CODES_2.set,
          }),
        )
        .thenThrows('no-pending-enrollment');
    });

    it('a new enrollment is possible without proof, and enables two-factor again', () => {
      spec
        .given(wasReset)
        .when(startEnrollment({ nowMs: later, newSecret: SEALED_B }))
        .then([enrollmentStarted(later, SEALED_B)]);
      spec
        .given([...wasReset, enrollmentStarted(later, SEALED_B)])
        .when(
          confirmEnrollment({
            nowMs: later + MINUTE,
            code: codeAt(SECRET_B, later + MINUTE),
            pendingSecretBase32: SECRET_B,
            newRecoveryCodes: CODES_2.set,
          }),
        )
        .then([twoFactorEnabled(later + MINUTE, SEALED_B, stepAt(later + MINUTE), CODES_2.set)]);
    });
  });
});
