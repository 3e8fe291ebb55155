import { describe, expect, it } from 'vitest';
import { SECOND, T0 } from '../testing/clock.ts';
import { regenerateRecoveryCodes, totpProof, verifySignIn } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  codesRegenerated,
  recoveryCodeConsumed,
  signInVerified,
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
import { CODES_1, CODES_2, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';

const spec = deciderSpecification(twoFactorDecider);

const regenerateWith = (code: string, nowMs = T0) =>
  regenerateRecoveryCodes({ nowMs, proof: totpProof(code, SECRET_A), newRecoveryCodes: CODES_2.set });

describe('RegenerateRecoveryCodes: regenerate', () => {
  it('a current authenticator code replaces the recovery codes with a fresh set of ten', () => {
    const { state } = spec
      .given([...enabled, recoveryCodeConsumed(T0 - SECOND, 0, 9, 'sign-in')])
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .then([codesRegenerated(T0, STEP_NOW, CODES_2.set)]);
    expect(state.recoveryCodes).toEqual({ set: CODES_2.set, used: Array(10).fill(false), lastUsed: null });
    expect(state.authenticators[0]?.lastAcceptedStep).toBe(STEP_NOW);
  });

  describe('after regenerating', () => {
    const regenerated = [...enabled, codesRegenerated(T0, STEP_NOW, CODES_2.set)];
    const later = T0 + 5 * SECOND;

    it('the previous recovery codes stop working at once', () => {
      spec
        .given(regenerated)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_2.set, CODES_1.codes[1]!) }))
        .then([verificationFailed(later, 1, 'sign-in', 'recovery-code')]);
    });

    it('the new recovery codes work', () => {
      spec
        .given(regenerated)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_2.set, CODES_2.codes[1]!) }))
        .then([recoveryCodeConsumed(later, 1, 9, 'sign-in'), signInVerified(later, 'recovery-code', null)]);
    });

    it('the code that confirmed the regeneration cannot be reused for sign-in', () => {
      spec
        .given(regenerated)
        .when(verifySignIn({ nowMs: later, proof: totpProof(codeAt(SECRET_A, T0), SECRET_A) }))
        .thenThrows('code-already-used');
    });
  });

  it('a wrong code is a counted failure and keeps the old codes', () => {
    const { state } = spec
      .given(enabled)
      .when(regenerateWith(wrongCodeAt(SECRET_A, T0)))
      .then([verificationFailed(T0, 1, 'regenerate', 'totp')]);
    expect(state.recoveryCodes?.set).toEqual(CODES_1.set);
  });

  it('the code just used for sign-in is refused as already used, and not counted', () => {
    spec
      .given([...enabled, signInVerified(T0 - SECOND, 'totp', STEP_NOW)])
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .thenThrows('code-already-used');
  });

  it('an older code than the last accepted one is still a counted failure', () => {
    spec
      .given([...enabled, signInVerified(T0 - SECOND, 'totp', STEP_NOW)])
      .when(regenerateWith(codeAt(SECRET_A, T0, -1)))
      .then([verificationFailed(T0, 1, 'regenerate', 'totp')]);
  });

  it('enabled with a pending replacement: the current authenticator still regenerates', () => {
    spec
      .given(enabledWithPendingReplacement)
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .then([codesRegenerated(T0, STEP_NOW, CODES_2.set)]);
  });

  it('locked temporarily: refused without checking the code', () => {
    spec
      .given(lockedTemporarily)
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, LOCKED_UNTIL, 'regenerate', 'totp')]);
  });

  it('locked until admin: refused without checking the code', () => {
    spec
      .given(lockedUntilAdmin)
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .then([verificationRefused(T0, null, 'regenerate', 'totp')]);
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
      .when(regenerateWith(codeAt(SECRET_A, T0)))
      .thenThrows('not-enabled');
  });
});
