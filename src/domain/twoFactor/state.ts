import type { EncryptedSecret } from './encryptedSecret.ts';
import type { EnrollmentDeadline } from './enrollmentDeadline.ts';
import { type Lockouts, noLockouts } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';

/** One of the user's authenticator apps, confirmed: its codes sign in. */
export type Authenticator = {
  readonly id: string;
  readonly name: string;
  readonly secret: EncryptedSecret;
  /** the last time step accepted from this authenticator; only later steps are accepted */
  readonly lastAcceptedStep: number;
  readonly addedAtMs: number;
  /** when a code of this authenticator last proved something after its confirmation */
  readonly lastUsedAtMs: number | null;
};

/**
 * An authenticator waiting for its first code: the first one (2FA is off), a replacement of
 * every one (a lost device), or one more beside those there are (`addition`).
 */
export type PendingEnrollment = {
  readonly authenticatorId: string;
  readonly name: string;
  readonly secret: EncryptedSecret;
  readonly expiresAtMs: number;
  readonly kind: 'first' | 'replacement' | 'addition';
};

export type RecoveryCodes = {
  readonly set: RecoveryCodeSet;
  readonly used: readonly boolean[];
  /** the code used last, and when: sent again soon after, it is a double submit, not a guess */
  readonly lastUsed: { readonly index: number; readonly atMs: number } | null;
};

/** One user's 2FA account. Plain JSON, so it can be snapshotted as it is. */
export type TwoFactorState = {
  readonly enabled: boolean;
  readonly enabledAtMs: number | null;
  /** the confirmed authenticator apps, in the order they were added */
  readonly authenticators: readonly Authenticator[];
  readonly pending: PendingEnrollment | null;
  readonly recoveryCodes: RecoveryCodes | null;
  /** one lockout per factor: the authenticator app (all of the user's apps) and the recovery codes */
  readonly lockouts: Lockouts;
  /** first enrollments started in the current window: a bound on what one user adds to the log */
  readonly enrollmentStarts: { readonly windowStartMs: number; readonly count: number } | null;
  /**
   * When the user's personal data was last erased, or null: whatever was gathered about them
   * before it (the addresses of refused attempts still counted somewhere) is never recorded.
   */
  readonly erasedAtMs: number | null;
  /** under "require 2FA": when the user was first seen in a period of it (enrollmentDeadline.ts) */
  readonly enrollmentDeadline: EnrollmentDeadline | null;
};

export const initialState = (): TwoFactorState => ({
  enabled: false,
  enabledAtMs: null,
  authenticators: [],
  pending: null,
  recoveryCodes: null,
  lockouts: noLockouts,
  enrollmentStarts: null,
  erasedAtMs: null,
  enrollmentDeadline: null,
});

export function recoveryCodesRemaining(state: TwoFactorState): number {
  if (!state.enabled || state.recoveryCodes === null) return 0;
  return state.recoveryCodes.used.filter((used) => !used).length;
}

/** What the status rules read of a state: whether 2FA is on, and a pending enrollment's deadline. */
export type StatusFacts = {
  readonly enabled: boolean;
  readonly pending: { readonly expiresAtMs: number } | null;
};

export function hasLivePendingEnrollment(state: Pick<StatusFacts, 'pending'>, nowMs: number): boolean {
  return state.pending !== null && nowMs < state.pending.expiresAtMs;
}

/** What the contract calls a user's 2FA status, everywhere it names one. */
export const TWO_FACTOR_STATUS_NAMES = ['disabled', 'pending', 'enabled'] as const;

export type TwoFactorStatusName = (typeof TWO_FACTOR_STATUS_NAMES)[number];

export function statusName(state: StatusFacts, nowMs: number): TwoFactorStatusName {
  if (state.enabled) return 'enabled';
  return hasLivePendingEnrollment(state, nowMs) ? 'pending' : 'disabled';
}
