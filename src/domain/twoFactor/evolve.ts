import { deadlineOf } from './enrollmentDeadline.ts';
import type { TwoFactorEvent } from './events.ts';
import { ENROLLMENT_START_WINDOW_MS, noLockout } from './lockout.ts';
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

export function evolve(state: TwoFactorState, event: TwoFactorEvent): TwoFactorState {
  switch (event.type) {
    case 'EnrollmentStarted': {
      const proven = event.data.proof === null ? state : { ...state, lockout: noLockout };
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
      return { ...state, lockout: { ...state.lockout, refusalRecorded: true } };
    case 'TwoFactorEnabled':
      return {
        ...state,
        enabled: true,
        enabledAtMs: ms(event.data.at),
        authenticator: { secret: event.data.secret, lastAcceptedStep: event.data.step },
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockout: noLockout,
      };
    case 'AuthenticatorReplaced':
      return {
        ...state,
        authenticator: { secret: event.data.secret, lastAcceptedStep: event.data.step },
        pending: null,
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockout: noLockout,
      };
    case 'SignInVerified':
      return { ...withAcceptedStep(state, event.data.step), lockout: noLockout };
    case 'RecoveryCodeConsumed': {
      if (state.recoveryCodes === null) return state;
      const used = state.recoveryCodes.used.map((u, i) => u || i === event.data.index);
      const lastUsed = { index: event.data.index, atMs: ms(event.data.at) };
      return { ...state, recoveryCodes: { ...state.recoveryCodes, used, lastUsed }, lockout: noLockout };
    }
    case 'CodesRegenerated':
      return {
        ...withAcceptedStep(state, event.data.step),
        recoveryCodes: freshCodes(event.data.recoveryCodes),
        lockout: noLockout,
      };
    case 'VerificationFailed':
      return { ...state, lockout: { ...state.lockout, consecutiveFailures: event.data.consecutiveFailures } };
    case 'FactorLocked':
      return {
        ...state,
        lockout: {
          consecutiveFailures: event.data.consecutiveFailures,
          lockedUntilMs: event.data.lockedUntil === null ? null : ms(event.data.lockedUntil),
          permanent: event.data.lockedUntil === null,
          refusalRecorded: false,
        },
      };
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
      return { ...state, lockout: noLockout };
    case 'EnrollmentDeadlineRecorded':
      return { ...state, enrollmentDeadline: deadlineOf(event) };
  }
}
