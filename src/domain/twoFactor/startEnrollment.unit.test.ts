import { describe, expect, it } from 'vitest';
import { TooSoonRejection } from '../shared/domainError.ts';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { startEnrollment, totpProof } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import {
  enrollmentStarted,
  recoveryCodeConsumed,
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
  recoveryCodesDisabled,
  SEALED_A,
  SEALED_B,
  STEP_NOW,
} from '../testing/histories.ts';
import { CODES_1, recoveryCodeProof } from '../testing/recoveryCodes.ts';
import { sealSecret } from '../testing/secrets.ts';
import { codeAt, SECRET_A, SECRET_C, wrongCodeAt } from '../testing/totpCodes.ts';
import { DEFAULT_AUTHENTICATOR_NAME, FIRST_AUTHENTICATOR_ID } from './authenticatorNames.ts';
import { twoFactorDecider } from './decider.ts';
import { evolve } from './evolve.ts';
import { noLockout } from './lockout.ts';
import { initialState } from './state.ts';

const spec = deciderSpecification(twoFactorDecider);
const SEALED_C = sealSecret(SECRET_C);
const currentCodeOfA = () => totpProof(codeAt(SECRET_A, T0), SECRET_A);

describe('StartEnrollment: enrollment', () => {
  it('never enrolled: starts an enrollment that expires after 15 minutes', () => {
    const { state } = spec
      .given(neverEnrolled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_A }))
      .then([enrollmentStarted(T0, SEALED_A)]);
    expect(state.pending).toEqual({
      authenticatorId: FIRST_AUTHENTICATOR_ID,
      name: DEFAULT_AUTHENTICATOR_NAME,
      secret: SEALED_A,
      expiresAtMs: T0 + 15 * 60_000,
      kind: 'first',
    });
    expect(state.enabled).toBe(false);
  });

  it('never enrolled: a first enrollment needs no proof, so a proof handed in is not recorded', () => {
    spec
      .given(neverEnrolled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_A, proof: currentCodeOfA() }))
      .then([enrollmentStarted(T0, SEALED_A)]);
  });

  it('pending: starting again replaces the pending secret and restarts the 15 minutes', () => {
    const { state } = spec
      .given(pendingLive)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
      .then([enrollmentStarted(T0, SEALED_B)]);
    expect(state.pending?.secret).toEqual(SEALED_B);
    expect(state.pending?.expiresAtMs).toBe(T0 + 15 * 60_000);
  });

  it('pending but expired: starts a new enrollment', () => {
    spec
      .given(pendingExpired)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
      .then([enrollmentStarted(T0, SEALED_B)]);
  });

  it('disabled after having been enabled: starts a first enrollment again, not a replacement', () => {
    spec
      .given(disabledAfterEnabled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
      .then([enrollmentStarted(T0, SEALED_B)]);
  });

  it('after an admin reset: the user enrolls again from scratch', () => {
    spec
      .given(afterAdminReset)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
      .then([enrollmentStarted(T0, SEALED_B)]);
  });
});

describe('StartEnrollment while enabled: enrolling a replacement authenticator', () => {
  it('without proof is refused as already-enabled', () => {
    spec
      .given(enabled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
      .thenThrows('already-enabled');
  });

  it('with a current authenticator code starts a replacement, recording the step it proved', () => {
    const { state } = spec
      .given(enabled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B, proof: currentCodeOfA() }))
      .then([enrollmentStarted(T0, SEALED_B, { method: 'totp', step: STEP_NOW })]);
    expect(state.enabled).toBe(true);
    expect(state.pending?.kind).toBe('replacement');
    expect(state.authenticators.map((a) => a.secret)).toEqual([SEALED_A]);
    expect(state.authenticators[0]?.lastAcceptedStep).toBe(STEP_NOW);
  });

  it('with a recovery code starts a replacement and consumes that recovery code', () => {
    const { state } = spec
      .given(enabled)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[3]!),
        }),
      )
      .then([
        recoveryCodeConsumed(T0, 3, 9, 'replace-authenticator'),
        enrollmentStarted(T0, SEALED_B, { method: 'recovery-code', step: null }),
      ]);
    expect(state.recoveryCodes?.used[3]).toBe(true);
  });

  it('with a wrong authenticator code records a counted failure and starts nothing', () => {
    const { state } = spec
      .given(enabled)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: totpProof(wrongCodeAt(SECRET_A, T0), SECRET_A),
        }),
      )
      .then([verificationFailed(T0, 1, 'replace-authenticator', 'totp')]);
    expect(state.pending).toBeNull();
    expect(state.lockouts.app.consecutiveFailures).toBe(1);
  });

  it('with a recovery code that is not one of the set records a counted failure', () => {
    spec
      .given(enabled)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: { method: 'recovery-code', digest: 'f00d' },
        }),
      )
      .then([verificationFailed(T0, 1, 'replace-authenticator', 'recovery-code')]);
  });

  it('with a pending replacement: starting again with proof replaces the pending secret', () => {
    const { state } = spec
      .given(enabledWithPendingReplacement)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_C, proof: currentCodeOfA() }))
      .then([enrollmentStarted(T0, SEALED_C, { method: 'totp', step: STEP_NOW })]);
    expect(state.pending?.secret).toEqual(SEALED_C);
  });

  it('with a pending replacement: without proof is still refused as already-enabled', () => {
    spec
      .given(enabledWithPendingReplacement)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_C }))
      .thenThrows('already-enabled');
  });

  it('locked temporarily: the proof is refused without being checked, even a correct code', () => {
    spec
      .given(lockedTemporarily)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B, proof: currentCodeOfA() }))
      .then([verificationRefused(T0, LOCKED_UNTIL, 'replace-authenticator', 'totp')]);
  });

  it('the app disabled: a recovery code still proves the user, and the replacement starts the app’s lockout afresh', () => {
    const [consumed, started] = spec
      .given(lockedUntilAdmin)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!),
        }),
      )
      .thenSatisfies((events) =>
        expect(events.map((e) => e.type)).toEqual(['RecoveryCodeConsumed', 'EnrollmentStarted']),
      );
    const state = [...lockedUntilAdmin, consumed!, started!].reduce(evolve, initialState());
    expect(state.lockouts.app).toEqual(noLockout);
  });

  it('the app disabled: a wrong recovery code is counted against the recovery codes, and nothing is consumed', () => {
    const { state } = spec
      .given(lockedUntilAdmin)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, 'zzzzz-zzzzz'),
        }),
      )
      .then([verificationFailed(T0, 1, 'replace-authenticator', 'recovery-code')]);
    expect(state.recoveryCodes?.used.every((used) => !used)).toBe(true);
  });

  it('the recovery codes disabled: a recovery code is refused unchecked, and nothing is consumed', () => {
    const { state } = spec
      .given(recoveryCodesDisabled)
      .when(
        startEnrollment({
          nowMs: T0,
          newSecret: SEALED_B,
          proof: recoveryCodeProof(CODES_1.set, CODES_1.codes[0]!),
        }),
      )
      .then([verificationRefused(T0, null, 'replace-authenticator', 'recovery-code')]);
    expect(state.recoveryCodes?.used.every((used) => !used)).toBe(true);
  });
});

describe('StartEnrollment, started again and again', () => {
  const startAt = (nowMs: number) => startEnrollment({ nowMs, newSecret: SEALED_A, proof: null });

  it('takes ten first enrollments in fifteen minutes, then refuses until the window ends', () => {
    const account = new TwoFactorAccount(T0);
    for (let i = 0; i < 10; i++) expect(account.advance(SECOND).start(SECRET_A).rejected).toBeNull();
    const refused = account.advance(SECOND).start(SECRET_A);
    expect(refused.rejected).toBe('rate-limited');
    expect(refused.events).toEqual([]);
    account.advance(15 * MINUTE);
    expect(account.start(SECRET_A).rejected).toBeNull();
  });

  it('says when to try again', () => {
    const history = Array.from({ length: 10 }, (_, i) => enrollmentStarted(T0 + i * SECOND, SEALED_A));
    let thrown: unknown;
    try {
      twoFactorDecider.decide(startAt(T0 + MINUTE), history.reduce(twoFactorDecider.evolve, initialState()));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TooSoonRejection);
    expect((thrown as TooSoonRejection).retryAtMs).toBe(T0 + 15 * MINUTE);
  });
});
