import { describe, expect, it } from 'vitest';
import { MINUTE, T0 } from '../testing/clock.ts';
import { confirmEnrollment, totpProof, verifySignIn } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  authenticatorReplaced,
  recoveryCodeConsumed,
  signInVerified,
  twoFactorEnabled,
  verificationFailed,
} from '../testing/events.ts';
import {
  afterAdminReset,
  disabledAfterEnabled,
  enabled,
  enabledWithPendingReplacement,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  PENDING_STARTED_AT,
  pendingExpired,
  pendingLive,
  SEALED_A,
  SEALED_B,
  STEP_NOW,
} from '../testing/histories.ts';
import { CODES_1, CODES_2, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { codeAt, SECRET_A, SECRET_B, wrongCodeAt } from '../testing/totpCodes.ts';
import { DEFAULT_AUTHENTICATOR_NAME, FIRST_AUTHENTICATOR_ID } from './authenticatorNames.ts';
import { twoFactorDecider } from './decider.ts';

const spec = deciderSpecification(twoFactorDecider);

const confirmWith = (code: string, pendingSecretBase32: string | null, nowMs = T0) =>
  confirmEnrollment({ nowMs, code, pendingSecretBase32, newRecoveryCodes: CODES_1.set });

describe('ConfirmEnrollment: enrollment', () => {
  it('pending: the right code enables two-factor with the step it proved and ten fresh recovery codes', () => {
    const { state } = spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, T0), SECRET_A))
      .then([twoFactorEnabled(T0, SEALED_A, STEP_NOW, CODES_1.set)]);
    expect(state.enabled).toBe(true);
    expect(state.enabledAtMs).toBe(T0);
    expect(state.pending).toBeNull();
    expect(state.authenticators).toEqual([
      {
        id: FIRST_AUTHENTICATOR_ID,
        name: DEFAULT_AUTHENTICATOR_NAME,
        secret: SEALED_A,
        lastAcceptedStep: STEP_NOW,
        addedAtMs: T0,
        lastUsedAtMs: null,
      },
    ]);
    expect(state.recoveryCodes?.used).toEqual(Array(10).fill(false));
  });

  it('pending: a code one step behind (clock drift) is accepted and its step recorded', () => {
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, T0, -1), SECRET_A))
      .then([twoFactorEnabled(T0, SEALED_A, STEP_NOW - 1, CODES_1.set)]);
  });

  it('pending: a wrong code is a counted failure and leaves the enrollment pending', () => {
    const { state } = spec
      .given(pendingLive)
      .when(confirmWith(wrongCodeAt(SECRET_A, T0), SECRET_A))
      .then([verificationFailed(T0, 1, 'enrollment')]);
    expect(state.lockouts.app.consecutiveFailures).toBe(1);
    expect(state.enabled).toBe(false);
    expect(state.pending?.secret).toEqual(SEALED_A);
  });

  it('pending: a code two steps away is a wrong code', () => {
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, T0, 2), SECRET_A))
      .then([verificationFailed(T0, 1, 'enrollment')]);
  });

  it('pending: without the decrypted pending secret nothing can match, so it fails', () => {
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, T0), null))
      .then([verificationFailed(T0, 1, 'enrollment')]);
  });

  it('pending: a code of a secret that is not the pending one fails', () => {
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_B, T0), SECRET_A))
      .then([verificationFailed(T0, 1, 'enrollment')]);
  });

  it('pending: confirms up to the last millisecond of the 15 minutes', () => {
    const lastMoment = PENDING_STARTED_AT + 15 * MINUTE - 1;
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, lastMoment), SECRET_A, lastMoment))
      .thenSatisfies((events) => expect(events.map((e) => e.type)).toEqual(['TwoFactorEnabled']));
  });

  it('pending: at 15 minutes the enrollment has expired', () => {
    const expiry = PENDING_STARTED_AT + 15 * MINUTE;
    spec
      .given(pendingLive)
      .when(confirmWith(codeAt(SECRET_A, expiry), SECRET_A, expiry))
      .thenThrows('enrollment-expired');
  });

  it('pending but expired after 15 minutes: enrollment-expired, even with the right code', () => {
    spec
      .given(pendingExpired)
      .when(confirmWith(codeAt(SECRET_A, T0), SECRET_A))
      .thenThrows('enrollment-expired');
  });

  it.each([
    ['never enrolled', neverEnrolled],
    ['enabled, nothing pending', enabled],
    ['locked temporarily', lockedTemporarily],
    ['locked until admin', lockedUntilAdmin],
    ['disabled after having been enabled', disabledAfterEnabled],
    ['after admin reset', afterAdminReset],
  ])('%s: no-pending-enrollment', (_name, history) => {
    spec
      .given(history)
      .when(confirmWith(codeAt(SECRET_A, T0), SECRET_A))
      .thenThrows('no-pending-enrollment');
  });
});

describe('ConfirmEnrollment of a replacement authenticator', () => {
  const confirmReplacement = (code: string) =>
    confirmEnrollment({ nowMs: T0, code, pendingSecretBase32: SECRET_B, newRecoveryCodes: CODES_2.set });

  it('the new authenticator code swaps the authenticator and issues ten fresh recovery codes', () => {
    const { state } = spec
      .given(enabledWithPendingReplacement)
      .when(confirmReplacement(codeAt(SECRET_B, T0)))
      .then([authenticatorReplaced(T0, SEALED_B, STEP_NOW, CODES_2.set)]);
    expect(state.enabled).toBe(true);
    expect(state.pending).toBeNull();
    expect(state.authenticators).toEqual([
      expect.objectContaining({
        id: FIRST_AUTHENTICATOR_ID,
        secret: SEALED_B,
        lastAcceptedStep: STEP_NOW,
        lastUsedAtMs: null,
      }),
    ]);
    expect(state.recoveryCodes?.set).toEqual(CODES_2.set);
  });

  it('a code of the old authenticator does not confirm the new one, and counts as a failed attempt', () => {
    spec
      .given(enabledWithPendingReplacement)
      .when(confirmReplacement(codeAt(SECRET_A, T0)))
      .then([verificationFailed(T0, 1, 'replace-authenticator', 'totp')]);
  });

  it('keeps the time two-factor was first enabled', () => {
    const { state } = spec
      .given(enabledWithPendingReplacement)
      .when(confirmReplacement(codeAt(SECRET_B, T0)))
      .then([authenticatorReplaced(T0, SEALED_B, STEP_NOW, CODES_2.set)]);
    const before = enabled.reduce(twoFactorDecider.evolve, twoFactorDecider.initialState());
    expect(state.enabledAtMs).toBe(before.enabledAtMs);
  });

  describe('after the replacement', () => {
    const replaced = [
      ...enabledWithPendingReplacement,
      authenticatorReplaced(T0, SEALED_B, STEP_NOW, CODES_2.set),
    ];
    const later = T0 + 60_000;

    it('the old authenticator stops working (the handler now decrypts the new secret)', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: later, proof: totpProof(codeAt(SECRET_A, later), SECRET_B) }))
        .then([verificationFailed(later, 1)]);
    });

    it('an old recovery code stops working', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_2.set, CODES_1.codes[0]!) }))
        .then([verificationFailed(later, 1, 'sign-in', 'recovery-code')]);
    });

    it('an old recovery code stops working even hashed under its old salt', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!) }))
        .then([verificationFailed(later, 1, 'sign-in', 'recovery-code')]);
    });

    it('the new authenticator works for sign-in from the next step on', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: later, proof: totpProof(codeAt(SECRET_B, later), SECRET_B) }))
        .then([signInVerified(later, 'totp', STEP_NOW + 2)]);
    });

    it('the code that confirmed the new authenticator cannot be reused for sign-in', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: T0 + 5_000, proof: totpProof(codeAt(SECRET_B, T0), SECRET_B) }))
        .thenThrows('code-already-used');
    });

    it('a new recovery code works', () => {
      spec
        .given(replaced)
        .when(verifySignIn({ nowMs: later, proof: recoveryCodeProof(CODES_2.set, CODES_2.codes[9]!) }))
        .then([recoveryCodeConsumed(later, 9, 9, 'sign-in'), signInVerified(later, 'recovery-code', null)]);
    });
  });
});
