import { deadlineOf } from './enrollmentDeadline.ts';
import type { AppLockoutEffect, ProofRecord, TwoFactorEvent } from './events.ts';
import { ENROLLMENT_START_WINDOW_MS, type Factor, type Lockout, noLockout, noLockouts } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';
import { type Authenticator, initialState, type RecoveryCodes, type TwoFactorState } from './state.ts';

const ms = (iso: string): number => Date.parse(iso);

const freshCodes = (set: RecoveryCodeSet): RecoveryCodes => ({
  set,
  used: set.digests.map(() => false),
  lastUsed: null,
});

/** One more first enrollment started at `atMs`, in the window it falls in. */
function countedStart(
  starts: TwoFactorState['enrollmentStarts'],
  atMs: number,
): NonNullable<TwoFactorState['enrollmentStarts']> {
  return starts === null || atMs - starts.windowStartMs >= ENROLLMENT_START_WINDOW_MS
    ? { windowStartMs: atMs, count: 1 }
    : { ...starts, count: starts.count + 1 };
}

/** The state with one factor's lockout changed. */
const withLockout = (
  state: TwoFactorState,
  factor: Factor,
  change: (lockout: Lockout) => Lockout,
): TwoFactorState => ({
  ...state,
  lockouts: { ...state.lockouts, [factor]: change(state.lockouts[factor]) },
});

/** The state with one authenticator changed; an id the state does not hold changes nothing. */
const withAuthenticator = (
  state: TwoFactorState,
  authenticatorId: string | null,
  change: (authenticator: Authenticator) => Authenticator,
): TwoFactorState =>
  authenticatorId === null || !state.authenticators.some(({ id }) => id === authenticatorId)
    ? state
    : {
        ...state,
        authenticators: state.authenticators.map((a) => (a.id === authenticatorId ? change(a) : a)),
      };

/**
 * A TOTP step accepted from one authenticator at `at`: later codes only from now on, from
 * that authenticator; the others keep their own steps.
 */
const withAcceptedStep = (
  state: TwoFactorState,
  authenticatorId: string | null,
  step: number | null,
  at: string,
): TwoFactorState =>
  step === null
    ? state
    : withAuthenticator(state, authenticatorId, (a) => ({
        ...a,
        lastAcceptedStep: step,
        lastUsedAtMs: ms(at),
      }));

/** A proof with a TOTP code accepted: a success of the app, whose count starts again. */
const withProof = (state: TwoFactorState, proof: ProofRecord | null, at: string): TwoFactorState =>
  proof === null || proof.method !== 'totp'
    ? state
    : withLockout(withAcceptedStep(state, proof.authenticatorId, proof.step, at), 'app', () => noLockout);

/** The first authenticator of an enrollment, confirmed at `at`. */
const enrolled = (data: {
  readonly authenticatorId: string;
  readonly name: string;
  readonly secret: Authenticator['secret'];
  readonly step: number;
  readonly at: string;
}): Authenticator => ({
  id: data.authenticatorId,
  name: data.name,
  secret: data.secret,
  lastAcceptedStep: data.step,
  addedAtMs: ms(data.at),
  lastUsedAtMs: null,
});

const APP_LOCKOUT_AFTER_RECOVERY_CODE: Record<AppLockoutEffect, (lockout: Lockout) => Lockout> = {
  kept: (lockout) => lockout,
  'lock-ended': (lockout) => ({ ...lockout, lockedUntilMs: null, refusalRecorded: false }),
  reset: () => noLockout,
};

export function evolve(state: TwoFactorState, event: TwoFactorEvent): TwoFactorState {
  switch (event.type) {
    case 'EnrollmentStarted': {
      // A replacement proven with a code starts the app's lockout afresh: its confirmation is
      // the new authenticator's first attempt (a disabled app is lifted this way, by proof).
      // (A proof by recovery code is its own `RecoveryCodeConsumed`.)
      const proven = event.data.proof === null ? state : withLockout(state, 'app', () => noLockout);
      return {
        ...withProof(proven, event.data.proof, event.data.at),
        enrollmentStarts: event.data.replacement
          ? state.enrollmentStarts
          : countedStart(state.enrollmentStarts, ms(event.data.at)),
        pending: {
          authenticatorId: event.data.authenticatorId,
          name: event.data.name,
          secret: event.data.secret,
          expiresAtMs: ms(event.data.expiresAt),
          kind: event.data.replacement ? 'replacement' : 'first',
        },
      };
    }
    case 'AuthenticatorAdded':
      return {
        ...withProof(state, event.data.proof, event.data.at),
        pending: {
          authenticatorId: event.data.authenticatorId,
          name: event.data.name,
          secret: event.data.secret,
          expiresAtMs: ms(event.data.expiresAt),
          kind: 'addition',
        },
      };
    case 'AuthenticatorConfirmed': {
      if (state.pending === null || state.pending.authenticatorId !== event.data.authenticatorId)
        return state;
      const added = enrolled({ ...event.data, secret: state.pending.secret });
      return withLockout(
        { ...state, authenticators: [...state.authenticators, added], pending: null },
        'app',
        () => noLockout,
      );
    }
    case 'AuthenticatorRenamed':
      return withAuthenticator(state, event.data.authenticatorId, (a) => ({ ...a, name: event.data.name }));
    case 'AuthenticatorRemoved': {
      const proven = withProof(state, event.data.proof, event.data.at);
      return {
        ...proven,
        authenticators: proven.authenticators.filter(({ id }) => id !== event.data.authenticatorId),
      };
    }
    case 'EnrollmentConfirmationFailed':
    case 'RefusedAttemptsCounted':
      return state;
    case 'VerificationRefused':
      return withLockout(state, event.data.factor, (lockout) => ({ ...lockout, refusalRecorded: true }));
    case 'TwoFactorEnabled':
      return {
        ...state,
        enabled: true,
        enabledAtMs: ms(event.data.at),
        authenticators: [enrolled(event.data)],
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockouts: noLockouts,
      };
    case 'AuthenticatorReplaced':
      return {
        ...state,
        authenticators: [enrolled(event.data)],
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockouts: noLockouts,
      };
    case 'SignInVerified':
      // A recovery code's success is its `RecoveryCodeConsumed`; a TOTP code's is this.
      return event.data.method === 'totp' ? withProof(state, event.data, event.data.at) : state;
    case 'RecoveryCodeConsumed': {
      if (state.recoveryCodes === null) return state;
      const used = state.recoveryCodes.used.map((u, i) => u || i === event.data.index);
      const lastUsed = { index: event.data.index, atMs: ms(event.data.at) };
      const consumed = { ...state, recoveryCodes: { ...state.recoveryCodes, used, lastUsed } };
      return withLockout(
        withLockout(consumed, 'recovery-codes', () => noLockout),
        'app',
        APP_LOCKOUT_AFTER_RECOVERY_CODE[event.data.appLockout],
      );
    }
    case 'CodesRegenerated':
      // Proven with a TOTP code (a success of the app), and a fresh set of codes.
      return {
        ...withAcceptedStep(state, event.data.authenticatorId, event.data.step, event.data.at),
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockouts: noLockouts,
      };
    case 'VerificationFailed':
      // Counted here, not read from the event: events recorded when one count covered every
      // failure (version 1) fold into each factor's own count by their method.
      return withLockout(state, event.data.factor, (lockout) => ({
        ...lockout,
        consecutiveFailures: lockout.consecutiveFailures + 1,
      }));
    case 'FactorLocked':
      return withLockout(state, event.data.factor, (lockout) => ({
        ...lockout,
        lockedUntilMs: event.data.lockedUntil === null ? null : ms(event.data.lockedUntil),
        permanent: event.data.lockedUntil === null,
        refusalRecorded: false,
      }));
    case 'TwoFactorDisabled':
    case 'AdminReset':
      // The deadline outlives the 2FA it asked for: losing 2FA never restarts a grace period.
      return {
        ...initialState(),
        erasedAtMs: state.erasedAtMs,
        enrollmentDeadline: state.enrollmentDeadline,
      };
    case 'UserErased':
      return { ...initialState(), erasedAtMs: ms(event.data.at) };
    case 'SecretsResealed':
      return {
        ...state,
        authenticators: state.authenticators.map((a) => {
          const resealed = event.data.authenticators.find(({ authenticatorId }) => authenticatorId === a.id);
          return resealed === undefined ? a : { ...a, secret: resealed.secret };
        }),
        pending:
          state.pending && event.data.pending
            ? { ...state.pending, secret: event.data.pending }
            : state.pending,
      };
    case 'LockoutCleared':
      return { ...state, lockouts: noLockouts };
    case 'EnrollmentDeadlineRecorded':
      return { ...state, enrollmentDeadline: deadlineOf(event) };
  }
}
