import type { ProofMethod } from './events.ts';
import { factorOf, isLocked } from './lockout.ts';
import { hasLivePendingEnrollment, type TwoFactorState } from './state.ts';

/*
 * Whether an attempt's code will be checked at all. `decide` asks these, and so does the
 * handler before it does slow or sensitive work (decrypting a secret, an argon2 hash), so
 * that the answer lives in one place: the handler never prepares what decide will not use.
 */

/**
 * A code presented against the enabled account: checked unless the factor it is a code of is
 * locked. A locked app never blocks recovery codes, and locked recovery codes never block the
 * app.
 */
export function proofIsChecked(state: TwoFactorState, method: ProofMethod, nowMs: number): boolean {
  if (!state.enabled) return false;
  return !isLocked(state.lockouts[factorOf(method)], nowMs);
}

/** Whether a user may disable 2FA at all: not while the instance requires it for everyone. */
export const disablingIsAllowed = (requireTwoFactor: boolean): boolean => !requireTwoFactor;

/** A code presented to disable 2FA: refused before any check when disabling is not allowed. */
export function disableProofIsChecked(
  state: TwoFactorState,
  method: ProofMethod,
  nowMs: number,
  requireTwoFactor: boolean,
): boolean {
  return disablingIsAllowed(requireTwoFactor) && proofIsChecked(state, method, nowMs);
}

/**
 * A code confirming a pending enrollment (first or replacement): an authenticator app's code,
 * so not checked while the app is locked.
 */
export function confirmationIsChecked(state: TwoFactorState, nowMs: number): boolean {
  return hasLivePendingEnrollment(state, nowMs) && !isLocked(state.lockouts.app, nowMs);
}

/**
 * A code presented to remove an authenticator: not checked when there is no such
 * authenticator, nor when it is the last one and disabling is not allowed.
 */
export function removalProofIsChecked(
  state: TwoFactorState,
  authenticatorId: string,
  method: ProofMethod,
  nowMs: number,
  requireTwoFactor: boolean,
): boolean {
  if (!state.authenticators.some(({ id }) => id === authenticatorId)) return false;
  const last = state.authenticators.length === 1;
  return (!last || disablingIsAllowed(requireTwoFactor)) && proofIsChecked(state, method, nowMs);
}
