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
  /** the authenticator app's lockout */
  readonly locked: boolean;
  readonly lockedUntil: string | null;
  /** the recovery codes' lockout */
  readonly recoveryCodesLocked: boolean;
  readonly recoveryCodesLockedUntil: string | null;
  readonly required: boolean;
  readonly canDisable: boolean;
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
  context: { readonly nowMs: number; readonly requireTwoFactor: boolean },
): TwoFactorStatus {
  const app = lockView(state.enabled, state.lockouts.app, context.nowMs);
  const recoveryCodes = lockView(state.enabled, state.lockouts['recovery-codes'], context.nowMs);
  return {
    userId,
    status: statusName(state, context.nowMs),
    enabledAt: state.enabled && state.enabledAtMs !== null ? new Date(state.enabledAtMs).toISOString() : null,
    recoveryCodesRemaining: recoveryCodesRemaining(state),
    locked: app.locked,
    lockedUntil: app.until,
    recoveryCodesLocked: recoveryCodes.locked,
    recoveryCodesLockedUntil: recoveryCodes.until,
    required: context.requireTwoFactor,
    canDisable: state.enabled && !context.requireTwoFactor,
  };
}
