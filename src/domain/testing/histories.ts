import type { ProofMethod, TwoFactorEvent } from '../twoFactor/events.ts';
import { factorOf, lockAfterFailure } from '../twoFactor/lockout.ts';
import { HOUR, MINUTE, SECOND, stepAt, T0 } from './clock.ts';
import {
  adminReset,
  authenticatorAdded,
  authenticatorConfirmed,
  enrollmentStarted,
  factorLocked,
  twoFactorDisabled,
  twoFactorEnabled,
  verificationFailed,
} from './events.ts';
import { CODES_1 } from './recoveryCodes.ts';
import { sealSecret } from './secrets.ts';
import { SECRET_A, SECRET_B } from './totpCodes.ts';

/**
 * The states a command can meet, as the histories that lead to them. Every `when` happens
 * at T0. The first authenticator is SECRET_A with recovery codes CODES_1.
 */
export type History = readonly TwoFactorEvent[];

export const SEALED_A = sealSecret(SECRET_A);
export const SEALED_B = sealSecret(SECRET_B);

export const STARTED_AT = T0 - 10 * MINUTE;
export const CONFIRMED_AT = T0 - 9 * MINUTE;
/** The step of the code that confirmed the first enrollment. */
export const CONFIRMED_STEP = stepAt(CONFIRMED_AT);

export const neverEnrolled: History = [];

/** Started 5 minutes ago: live for 10 more minutes. */
export const PENDING_STARTED_AT = T0 - 5 * MINUTE;
export const pendingLive: History = [enrollmentStarted(PENDING_STARTED_AT, SEALED_A)];

/** Started 16 minutes ago: expired a minute ago. */
export const pendingExpired: History = [enrollmentStarted(T0 - 16 * MINUTE, SEALED_A)];

export const enabled: History = [
  enrollmentStarted(STARTED_AT, SEALED_A),
  twoFactorEnabled(CONFIRMED_AT, SEALED_A, CONFIRMED_STEP, CODES_1.set),
];

/** Enabled; a new phone's enrollment was started 2 minutes ago, proven with a TOTP code. */
export const REPLACEMENT_STARTED_AT = T0 - 2 * MINUTE;
export const REPLACEMENT_PROOF_STEP = stepAt(REPLACEMENT_STARTED_AT);
export const enabledWithPendingReplacement: History = [
  ...enabled,
  enrollmentStarted(REPLACEMENT_STARTED_AT, SEALED_B, { method: 'totp', step: REPLACEMENT_PROOF_STEP }),
];

/** Five wrong codes in a row, the last 10 seconds ago: locked for a minute. */
export const LOCKED_AT = T0 - 10 * SECOND;
export const LOCKED_UNTIL = LOCKED_AT + MINUTE;
export const lockedTemporarily: History = [
  ...enabled,
  ...[1, 2, 3, 4].map((n) => verificationFailed(LOCKED_AT - (5 - n) * SECOND, n)),
  verificationFailed(LOCKED_AT, 5),
  factorLocked(LOCKED_AT, 5, LOCKED_UNTIL),
];

/** Five wrong recovery codes in a row, the last 10 seconds ago: the recovery codes locked for a minute. */
export const recoveryCodesLockedTemporarily: History = [
  ...enabled,
  ...[1, 2, 3, 4].map((n) => verificationFailed(LOCKED_AT - (5 - n) * SECOND, n, 'sign-in', 'recovery-code')),
  verificationFailed(LOCKED_AT, 5, 'sign-in', 'recovery-code'),
  factorLocked(LOCKED_AT, 5, LOCKED_UNTIL, 'recovery-codes'),
];

/** A hundred failures of one factor in a row from `startMs`, each lock waited out. */
function hundredFailures(method: ProofMethod, startMs: number): TwoFactorEvent[] {
  const events: TwoFactorEvent[] = [];
  let nowMs = startMs;
  for (let n = 1; n <= 100; n++) {
    events.push(verificationFailed(nowMs, n, 'sign-in', method));
    const lock = lockAfterFailure(n, nowMs);
    if (lock !== undefined) events.push(factorLocked(nowMs, n, lock, factorOf(method)));
    nowMs += lock === undefined || lock === null ? SECOND : lock - nowMs + SECOND;
  }
  return events;
}

/** Enabled a month ago with SECRET_A and CODES_1. */
const ENABLED_LONG_AGO = T0 - 30 * 24 * HOUR;
const enabledLongAgo: History = [
  enrollmentStarted(ENABLED_LONG_AGO - MINUTE, SEALED_A),
  twoFactorEnabled(ENABLED_LONG_AGO, SEALED_A, stepAt(ENABLED_LONG_AGO), CODES_1.set),
];

/**
 * Enabled a month ago, then a hundred wrong TOTP codes in a row (each lock waited out, about
 * 14 hours in all): the authenticator app is disabled until an admin unlocks it.
 */
export const lockedUntilAdmin: History = [
  ...enabledLongAgo,
  ...hundredFailures('totp', ENABLED_LONG_AGO + HOUR),
];

/** …the same with a hundred wrong recovery codes: the recovery codes are disabled. */
export const recoveryCodesDisabled: History = [
  ...enabledLongAgo,
  ...hundredFailures('recovery-code', ENABLED_LONG_AGO + HOUR),
];

export const disabledAfterEnabled: History = [
  ...enabled,
  twoFactorDisabled(T0 - 3 * MINUTE, 'totp', stepAt(T0 - 3 * MINUTE)),
];

export const afterAdminReset: History = [...enabled, adminReset(T0 - 3 * MINUTE, 'enabled')];

/** The time step of T0, when every `when` happens. */
export const STEP_NOW = stepAt(T0);

/** A second authenticator, "Backup phone" (`auth_backup`, secret B), added and confirmed 5 minutes ago. */
export const BACKUP = { authenticatorId: 'auth_backup', name: 'Backup phone' } as const;
export const BACKUP_ADDED_AT = T0 - 6 * MINUTE;
export const BACKUP_CONFIRMED_AT = T0 - 5 * MINUTE;
export const withBackupPhone: History = [
  ...enabled,
  authenticatorAdded(BACKUP_ADDED_AT, BACKUP, SEALED_B, { method: 'totp', step: stepAt(BACKUP_ADDED_AT) }),
  authenticatorConfirmed(BACKUP_CONFIRMED_AT, BACKUP, stepAt(BACKUP_CONFIRMED_AT)),
];
