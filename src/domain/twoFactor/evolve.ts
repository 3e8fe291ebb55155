import { deadlineOf } from './enrollmentDeadline.ts';
import type { AppLockoutEffect, TwoFactorEvent } from './events.ts';
import { ENROLLMENT_START_WINDOW_MS, type Factor, type Lockout, noLockout, noLockouts } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';
import { initialState, type RecoveryCodes, type TwoFactorState } from './state.ts';

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

/** A TOTP step accepted by a success: later codes only from now on. */
const withAcceptedStep = (state: TwoFactorState, step: number | null): TwoFactorState =>
  step === null || state.authenticator === null
    ? state
    : { ...state, authenticator: { ...state.authenticator, lastAcceptedStep: step } };

/** The state with one factor's lockout changed. */
const withLockout = (
  state: TwoFactorState,
  factor: Factor,
  change: (lockout: Lockout) => Lockout,
): TwoFactorState => ({
  ...state,
  lockouts: { ...state.lockouts, [factor]: change(state.lockouts[factor]) },
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
      const proven = event.data.proof === null ? state : withLockout(state, 'app', () => noLockout);
      return {
        ...withAcceptedStep(proven, event.data.proof?.step ?? null),
        enrollmentStarts: event.data.replacement
          ? state.enrollmentStarts
          : countedStart(state.enrollmentStarts, ms(event.data.at)),
        pending: {
          secret: event.data.secret,
          expiresAtMs: ms(event.data.expiresAt),
          replacement: event.data.replacement,
        },
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
        authenticator: { secret: event.data.secret, lastAcceptedStep: event.data.step },
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockouts: noLockouts,
      };
    case 'AuthenticatorReplaced':
      return {
        ...state,
        authenticator: { secret: event.data.secret, lastAcceptedStep: event.data.step },
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockouts: noLockouts,
      };
    case 'SignInVerified':
      // A recovery code's success is its `RecoveryCodeConsumed`; a TOTP code's is this.
      return event.data.method === 'totp'
        ? withLockout(withAcceptedStep(state, event.data.step), 'app', () => noLockout)
        : state;
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
        ...withAcceptedStep(state, event.data.step),
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
        authenticator:
          state.authenticator && event.data.authenticator
            ? { ...state.authenticator, secret: event.data.authenticator }
            : state.authenticator,
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
