import { isLocked } from './lockout.ts';
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
  readonly locked: boolean;
  readonly lockedUntil: string | null;
  readonly required: boolean;
  readonly canDisable: boolean;
};

export function twoFactorStatus(
  userId: string,
  state: TwoFactorState,
  context: { readonly nowMs: number; readonly requireTwoFactor: boolean },
): TwoFactorStatus {
  const locked = state.enabled && isLocked(state.lockout, context.nowMs);
  return {
    userId,
    status: statusName(state, context.nowMs),
    enabledAt: state.enabled && state.enabledAtMs !== null ? new Date(state.enabledAtMs).toISOString() : null,
    recoveryCodesRemaining: recoveryCodesRemaining(state),
    locked,
    lockedUntil:
      locked && !state.lockout.permanent && state.lockout.lockedUntilMs !== null
        ? new Date(state.lockout.lockedUntilMs).toISOString()
        : null,
    required: context.requireTwoFactor,
    canDisable: state.enabled && !context.requireTwoFactor,
  };
}
