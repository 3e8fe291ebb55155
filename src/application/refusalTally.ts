import type { CommandMetadata } from '../domain/shared/message.ts';
import { decide } from '../domain/twoFactor/decide.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import type { TwoFactorState } from '../domain/twoFactor/state.ts';

/** Distinct end-user addresses kept per count; the count itself is always exact. */
export const MAX_ADDRESSES_PER_COUNT = 16;

/** A lock until an administrator unlocks has no end: its refusals are counted hour by hour. */
export const PERMANENT_LOCK_COUNT_INTERVAL_MS = 3_600_000;

export type RefusedAttempt = {
  readonly userId: string;
  readonly atMs: number;
  readonly lockedUntil: string | null;
  readonly metadata: CommandMetadata;
};

export type Tally = {
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
 * refusal and the event that records their count. What a crash loses is a count, never a
 * decision: none of these attempts was checked or changed anything.
 */
export function createRefusalTally({ maxUsers = 100_000 } = {}) {
  const tallies = new Map<string, Tally>();

  function merge(before: Tally | undefined, attempt: RefusedAttempt): Tally {
    const ip = attempt.metadata.endUserIp;
    const ips = before?.endUserIps ?? [];
    const endUserIps =
      ip === undefined || ips.includes(ip) || ips.length >= MAX_ADDRESSES_PER_COUNT ? ips : [...ips, ip];
    const firstAtMs = before?.firstAtMs ?? attempt.atMs;
    return {
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

  return {
    /** Counts one refused attempt; returns a user whose count must be recorded now to make room. */
    add(attempt: RefusedAttempt): string | null {
      const before = tallies.get(attempt.userId);
      tallies.set(attempt.userId, merge(before, attempt));
      if (before !== undefined || tallies.size <= maxUsers) return null;
      return tallies.keys().next().value ?? null;
    },
    due(nowMs: number): string[] {
      return [...tallies].filter(([, tally]) => nowMs >= tally.dueAtMs).map(([userId]) => userId);
    },
    users(): string[] {
      return [...tallies.keys()];
    },
    take(userId: string): Tally | undefined {
      const tally = tallies.get(userId);
      tallies.delete(userId);
      return tally;
    },
    /** Puts back a count that could not be recorded, together with any counted since. */
    restore(userId: string, tally: Tally): void {
      const since = tallies.get(userId);
      tallies.set(
        userId,
        since === undefined
          ? tally
          : {
              ...since,
              attempts: tally.attempts + since.attempts,
              firstAtMs: Math.min(tally.firstAtMs, since.firstAtMs),
              endUserIps: [...new Set([...tally.endUserIps, ...since.endUserIps])].slice(
                0,
                MAX_ADDRESSES_PER_COUNT,
              ),
              dueAtMs: tally.dueAtMs,
            },
      );
    },
  };
}

export type RefusalTally = ReturnType<typeof createRefusalTally>;

/**
 * The event that records the refusals counted for a user. Their addresses are in its data;
 * the metadata leaves out the latest attempt's address and agent, which describe one of many.
 */
export function countRefusals(
  userId: string,
  tally: Tally,
  state: TwoFactorState,
  nowMs: number,
): readonly TwoFactorEvent[] {
  const { endUserIp: _ip, endUserAgent: _agent, ...metadata } = tally.metadata;
  return decide(
    {
      type: 'CountRefusedAttempts',
      data: {
        userId,
        nowMs,
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
}
