import type { ProofMethod } from './events.ts';

/**
 * Failed-attempt throttling (NIST SP 800-63B rev. 4 §5.2.2), per authenticator: the
 * authenticator app (TOTP codes; one lockout however many apps a user has) and the recovery
 * codes each keep their own count. Every 5 consecutive failures of one lock it, for 1 minute
 * at first and twice as long each time after, up to 1 hour; at 100 it is disabled until an
 * administrator unlocks it (or the user replaces the app, or regenerates the codes). A
 * success with it resets its count. The user is warned at 50.
 *
 * One never blocks the other: a user holding either gets in, and 100 wrong guesses of either
 * take the same fifteen hours.
 */
export const FAILURES_PER_LOCK = 5;
export const FIRST_LOCK_MS = 60_000;
export const LONGEST_LOCK_MS = 3_600_000;
export const FAILURES_BEFORE_PERMANENT_LOCK = 100;
export const FAILURES_BEFORE_WARNING = 50;

/** What a lockout guards: the authenticator app, or the set of recovery codes. */
export type Factor = 'app' | 'recovery-codes';

export const FACTORS: readonly Factor[] = ['app', 'recovery-codes'];

/** The factor whose lockout a presented code counts against. */
export const factorOf = (method: ProofMethod): Factor => (method === 'totp' ? 'app' : 'recovery-codes');

export type Lockout = {
  readonly consecutiveFailures: number;
  /** epoch ms until which attempts are refused; null when not temporarily locked */
  readonly lockedUntilMs: number | null;
  /** disabled: locked until an administrator unlocks (or the factor is replaced) */
  readonly permanent: boolean;
  /** a refused attempt was recorded during this lock: later ones are counted, not recorded */
  readonly refusalRecorded: boolean;
};

/** One lockout per factor. */
export type Lockouts = Readonly<Record<Factor, Lockout>>;

export const noLockout: Lockout = {
  consecutiveFailures: 0,
  lockedUntilMs: null,
  permanent: false,
  refusalRecorded: false,
};

export const noLockouts: Lockouts = { app: noLockout, 'recovery-codes': noLockout };

export function isLocked(lockout: Lockout, nowMs: number): boolean {
  return lockout.permanent || isTemporarilyLocked(lockout, nowMs);
}

/** Locked for a while, not disabled. */
export function isTemporarilyLocked(lockout: Lockout, nowMs: number): boolean {
  return !lockout.permanent && lockout.lockedUntilMs !== null && nowMs < lockout.lockedUntilMs;
}

/** The factors locked at `nowMs`, in a fixed order. */
export const lockedFactors = (lockouts: Lockouts, nowMs: number): Factor[] =>
  FACTORS.filter((factor) => isLocked(lockouts[factor], nowMs));

/**
 * The lock that the `consecutiveFailures`-th failure in a row triggers: `undefined` for
 * none, `null` for a lock only an administrator lifts, or the epoch ms it ends.
 */
export function lockAfterFailure(consecutiveFailures: number, nowMs: number): number | null | undefined {
  if (consecutiveFailures >= FAILURES_BEFORE_PERMANENT_LOCK) return null;
  if (consecutiveFailures % FAILURES_PER_LOCK !== 0) return undefined;
  const locksSoFar = consecutiveFailures / FAILURES_PER_LOCK;
  return nowMs + Math.min(LONGEST_LOCK_MS, FIRST_LOCK_MS * 2 ** (locksSoFar - 1));
}

/**
 * After `consecutiveFailures` failures of a factor in a row, how many more lock it, and
 * whether that lock is the one only an administrator lifts. Attempts refused during a lock
 * do not count, so this holds until the next checked attempt.
 */
export function failuresBeforeNextLock(consecutiveFailures: number): {
  readonly failures: number;
  readonly permanent: boolean;
} {
  const next = Math.min(
    FAILURES_BEFORE_PERMANENT_LOCK,
    (Math.floor(consecutiveFailures / FAILURES_PER_LOCK) + 1) * FAILURES_PER_LOCK,
  );
  return {
    failures: Math.max(0, next - consecutiveFailures),
    permanent: next >= FAILURES_BEFORE_PERMANENT_LOCK,
  };
}

/**
 * First enrollments a user may start in a window. Each start is an event; restarting a
 * dozen times is a person who mistyped, restarting thousands of times is the log being grown.
 */
export const ENROLLMENT_STARTS_PER_WINDOW = 10;
export const ENROLLMENT_START_WINDOW_MS = 15 * 60_000;
