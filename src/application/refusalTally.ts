import type { CommandMetadata } from '../domain/shared/message.ts';
import { decide } from '../domain/twoFactor/decide.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
import type { TwoFactorState } from '../domain/twoFactor/state.ts';

/** Distinct end-user addresses kept per count; the count itself is always exact. */
export const MAX_ADDRESSES_PER_COUNT = 16;

/** A lock until an administrator unlocks has no end: its refusals are counted hour by hour. */
export const PERMANENT_LOCK_COUNT_INTERVAL_MS = 3_600_000;

export type RefusedAttempt = {
  readonly userId: string;
  /** the locked factor that refused it: each factor's lock is counted on its own */
  readonly factor: Factor;
  readonly atMs: number;
  readonly lockedUntil: string | null;
  readonly metadata: CommandMetadata;
};

export type Tally = {
  readonly factor: Factor;
  readonly attempts: number;
  readonly firstAtMs: number;
  readonly lastAtMs: number;
  readonly endUserIps: readonly string[];
  readonly lockedUntil: string | null;
  /** when the count should be recorded: the lock's end */
  readonly dueAtMs: number;
  /** of the latest attempt, for the correlation of the event that records the count */
  readonly metadata: CommandMetadata;
};

/**
 * Refused attempts on locked factors, counted in memory between the lock's one recorded
 * refusal and the event that records their count, per user and factor. What a crash loses is
 * a count, never a decision: none of these attempts was checked or changed anything.
 */
export function createRefusalTally({ maxUsers = 100_000 } = {}) {
  const tallies = new Map<string, Map<Factor, Tally>>();

  function merge(before: Tally | undefined, attempt: RefusedAttempt): Tally {
    const ip = attempt.metadata.endUserIp;
    const ips = before?.endUserIps ?? [];
    const endUserIps =
      ip === undefined || ips.includes(ip) || ips.length >= MAX_ADDRESSES_PER_COUNT ? ips : [...ips, ip];
    const firstAtMs = before?.firstAtMs ?? attempt.atMs;
    return {
      factor: attempt.factor,
      attempts: (before?.attempts ?? 0) + 1,
      firstAtMs,
      lastAtMs: Math.max(before?.lastAtMs ?? attempt.atMs, attempt.atMs),
      endUserIps,
      lockedUntil: attempt.lockedUntil,
      dueAtMs:
        before?.dueAtMs ??
        (attempt.lockedUntil === null
          ? firstAtMs + PERMANENT_LOCK_COUNT_INTERVAL_MS
          : Date.parse(attempt.lockedUntil)),
      metadata: attempt.metadata,
    };
  }

  /** Two counts of one factor as one: what could not be recorded, and what was counted since. */
  function combined(earlier: Tally, since: Tally): Tally {
    return {
      ...since,
      attempts: earlier.attempts + since.attempts,
      firstAtMs: Math.min(earlier.firstAtMs, since.firstAtMs),
      endUserIps: [...new Set([...earlier.endUserIps, ...since.endUserIps])].slice(
        0,
        MAX_ADDRESSES_PER_COUNT,
      ),
      dueAtMs: earlier.dueAtMs,
    };
  }

  return {
    /** Counts one refused attempt; returns a user whose count must be recorded now to make room. */
    add(attempt: RefusedAttempt): string | null {
      const user = tallies.get(attempt.userId);
      const factors = user ?? new Map<Factor, Tally>();
      factors.set(attempt.factor, merge(factors.get(attempt.factor), attempt));
      tallies.set(attempt.userId, factors);
      if (user !== undefined || tallies.size <= maxUsers) return null;
      return tallies.keys().next().value ?? null;
    },
    due(nowMs: number): string[] {
      return [...tallies]
        .filter(([, factors]) => [...factors.values()].some((tally) => nowMs >= tally.dueAtMs))
        .map(([userId]) => userId);
    },
    users(): string[] {
      return [...tallies.keys()];
    },
    /** Every count of the user (one per locked factor), taken out to be recorded. */
    take(userId: string): readonly Tally[] | undefined {
      const factors = tallies.get(userId);
      tallies.delete(userId);
      return factors === undefined ? undefined : [...factors.values()];
    },
    /** Puts back counts that could not be recorded, together with any counted since. */
    restore(userId: string, taken: readonly Tally[]): void {
      const factors = tallies.get(userId) ?? new Map<Factor, Tally>();
      for (const tally of taken) {
        const since = factors.get(tally.factor);
        factors.set(tally.factor, since === undefined ? tally : combined(tally, since));
      }
      tallies.set(userId, factors);
    },
  };
}

export type RefusalTally = ReturnType<typeof createRefusalTally>;

/**
 * The events that record the refusals counted for a user, one per factor. Their addresses are
 * in its data; the metadata leaves out the latest attempt's address and agent, which describe
 * one of many.
 */
export function countRefusals(
  userId: string,
  tallies: readonly Tally[],
  state: TwoFactorState,
  nowMs: number,
): readonly TwoFactorEvent[] {
  return tallies.flatMap((tally) => {
    const { endUserIp: _ip, endUserAgent: _agent, ...metadata } = tally.metadata;
    return decide(
      {
        type: 'CountRefusedAttempts',
        data: {
          userId,
          nowMs,
          factor: tally.factor,
          attempts: tally.attempts,
          firstAtMs: tally.firstAtMs,
          lastAtMs: tally.lastAtMs,
          endUserIps: tally.endUserIps,
          lockedUntil: tally.lockedUntil,
        },
        metadata,
      },
      state,
    );
  });
}
