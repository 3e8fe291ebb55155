/**
 * Failed-attempt throttling (NIST SP 800-63B §5.2.2): every 5 consecutive failures lock the
 * factor, for 1 minute at first and twice as long each time after, up to 1 hour; at 100
 * consecutive failures it stays locked until an administrator unlocks it. A success resets.
 * The user is warned at 50. While locked, a recovery code is still checked (50 random bits:
 * trying one costs an attacker nothing worth having), so a user can always let themselves in.
 */
export const FAILURES_PER_LOCK = 5;
export const FIRST_LOCK_MS = 60_000;
export const LONGEST_LOCK_MS = 3_600_000;
export const FAILURES_BEFORE_PERMANENT_LOCK = 100;
export const FAILURES_BEFORE_WARNING = 50;

export type Lockout = {
  readonly consecutiveFailures: number;
  /** epoch ms until which attempts are refused; null when not temporarily locked */
  readonly lockedUntilMs: number | null;
  /** locked until an administrator unlocks */
  readonly permanent: boolean;
  /** a refused attempt was recorded during this lock: later ones are counted, not recorded */
  readonly refusalRecorded: boolean;
};

export const noLockout: Lockout = {
  consecutiveFailures: 0,
  lockedUntilMs: null,
  permanent: false,
  refusalRecorded: false,
};

export function isLocked(lockout: Lockout, nowMs: number): boolean {
  return lockout.permanent || (lockout.lockedUntilMs !== null && nowMs < lockout.lockedUntilMs);
}

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
 * First enrollments a user may start in a window. Each start is an event; restarting a
 * dozen times is a person who mistyped, restarting thousands of times is the log being grown.
 */
export const ENROLLMENT_STARTS_PER_WINDOW = 10;
export const ENROLLMENT_START_WINDOW_MS = 15 * 60_000;
