import { type EnrollmentRequirement, enrollByMs } from './enrollmentDeadline.ts';
import { isLocked, type Lockout } from './lockout.ts';
import {
  recoveryCodesRemaining,
  statusName,
  type TwoFactorState,
  type TwoFactorStatusName,
} from './state.ts';

/** The status document of the contract, as of `nowMs`. */
export type TwoFactorStatus = {
  readonly userId: string;
  readonly status: TwoFactorStatusName;
  readonly enabledAt: string | null;
  readonly recoveryCodesRemaining: number;
  /** how many authenticator apps sign the user in (0 while 2FA is off) */
  readonly authenticators: number;
  /** the authenticator app's lockout */
  readonly locked: boolean;
  readonly lockedUntil: string | null;
  /** the recovery codes' lockout */
  readonly recoveryCodesLocked: boolean;
  readonly recoveryCodesLockedUntil: string | null;
  readonly required: boolean;
  /** 2FA is required and the user has none: the caller leads them into setup at sign-in */
  readonly enrollmentRequired: boolean;
  /** until when such a user may defer setting it up; past (or null), setup is forced */
  readonly enrollBy: string | null;
  /** such a user may still defer: `enrollBy` is ahead by the service's clock, not the caller's */
  readonly canDefer: boolean;
  readonly canDisable: boolean;
};

export type StatusContext = {
  readonly nowMs: number;
  readonly requireTwoFactor: boolean;
  /** the requirement's period and grace; without it, a user who must enroll must do so at once */
  readonly requirement?: EnrollmentRequirement | null;
};

/** Whether a lockout holds now, and until when (null: until an administrator unlocks). */
function lockView(enabled: boolean, lockout: Lockout, nowMs: number) {
  const locked = enabled && isLocked(lockout, nowMs);
  return {
    locked,
    until:
      locked && !lockout.permanent && lockout.lockedUntilMs !== null
        ? new Date(lockout.lockedUntilMs).toISOString()
        : null,
  };
}

export function twoFactorStatus(
  userId: string,
  state: TwoFactorState,
  context: StatusContext,
): TwoFactorStatus {
  const app = lockView(state.enabled, state.lockouts.app, context.nowMs);
  const recoveryCodes = lockView(state.enabled, state.lockouts['recovery-codes'], context.nowMs);
  const enrollmentRequired = context.requireTwoFactor && !state.enabled;
  const requirement = context.requirement ?? null;
  const enrollByMsThen =
    enrollmentRequired && requirement !== null
      ? enrollByMs(state.enrollmentDeadline, requirement, context.nowMs)
      : null;
  return {
    userId,
    status: statusName(state, context.nowMs),
    enabledAt: state.enabled && state.enabledAtMs !== null ? new Date(state.enabledAtMs).toISOString() : null,
    recoveryCodesRemaining: recoveryCodesRemaining(state),
    authenticators: state.enabled ? state.authenticators.length : 0,
    locked: app.locked,
    lockedUntil: app.until,
    recoveryCodesLocked: recoveryCodes.locked,
    recoveryCodesLockedUntil: recoveryCodes.until,
    required: context.requireTwoFactor,
    enrollmentRequired,
    enrollBy: enrollByMsThen === null ? null : new Date(enrollByMsThen).toISOString(),
    canDefer: enrollByMsThen !== null && context.nowMs < enrollByMsThen,
    canDisable: state.enabled && !context.requireTwoFactor,
  };
}
