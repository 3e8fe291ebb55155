import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWorkLimiter, type Slot, type WorkLimiterOptions, WorkOverloadedError } from './workLimiter.ts';

/*
 * The limiter at the level of its decisions: computations are promises the test settles, and
 * the clock is the test's, so that the measured cost and every wait are exact.
 */

let clockMs = 0;
beforeEach(() => {
  clockMs = 0;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets every promise that can settle now settle. */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

/** Moves the limiter's clock and its timers together. */
async function advance(ms: number): Promise<void> {
  clockMs += ms;
  await vi.advanceTimersByTimeAsync(ms);
}

const limiterOf = (options: Partial<WorkLimiterOptions> = {}) =>
  createWorkLimiter({ maxConcurrent: 1, maxWaitMs: 1_000, now: () => clockMs, ...options });

/** Computations the test finishes one by one, in the order they started. */
function computations() {
  const started: { label: string; finish: () => void; fail: (error: Error) => void }[] = [];
  const computation = (label: string) => () =>
    new Promise<string>((resolve, reject) => {
      started.push({ label, finish: () => resolve(label), fail: reject });
    });
  return {
    computation,
    started,
    /** Lets the earliest running computation take `ms`, then finishes it. */
    async finishNext(ms = 100) {
      await flush();
      await advance(ms);
      const next = started.find((c) => !('done' in c));
      if (next === undefined) throw new Error('nothing is running');
      Object.assign(next, { done: true });
      next.finish();
      await vi.advanceTimersByTimeAsync(0);
    },
    running: () => started.filter((c) => !('done' in c)).map((c) => c.label),
  };
}

const settled = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

const check = (
  limiter: ReturnType<typeof limiterOf>,
  key: string,
  work: ReturnType<typeof computations>,
  label: string,
) => settled(limiter.run({ proven: false, key }, (slot: Slot) => slot(work.computation(label))));

const issue = (limiter: ReturnType<typeof limiterOf>, work: ReturnType<typeof computations>, label: string) =>
  settled(
    limiter.run({ proven: true }, (slot: Slot) =>
      Promise.all(Array.from({ length: 10 }, (_, i) => slot(work.computation(`${label}.${i}`)))),
    ),
  );

describe('proven work: issuing codes after a TOTP code', () => {
  it('is never shed, however much is queued, and runs at most maxConcurrent computations at once', async () => {
    const limiter = limiterOf({ maxConcurrent: 2, maxWaitMs: 1 });
    const work = computations();
    const jobs = Array.from({ length: 8 }, (_, n) => issue(limiter, work, `user${n}`));
    let most = 0;
    for (let done = 0; done < 80; done++) {
      most = Math.max(most, work.running().length);
      await work.finishNext();
    }
    const results = await Promise.all(jobs);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(most).toBe(2);
  });

  it('is served ahead of unproven checks that were queued before it', async () => {
    const limiter = limiterOf({ maxWaitMs: 60_000 });
    const work = computations();
    const first = check(limiter, 'a', work, 'check a');
    await vi.advanceTimersByTimeAsync(0);
    const queued = check(limiter, 'b', work, 'check b');
    await vi.advanceTimersByTimeAsync(0);
    const issued = issue(limiter, work, 'confirm');
    for (let i = 0; i < 12; i++) await work.finishNext(10);
    await Promise.all([first, queued, issued]);
    expect(work.started.map((c) => c.label)).toEqual([
      'check a',
      ...Array.from({ length: 10 }, (_, i) => `confirm.${i}`),
      'check b',
    ]);
  });
});

describe('unproven work: checking a recovery code', () => {
  it('keeps one job in flight per key; the next from the same key waits its turn', async () => {
    const limiter = limiterOf({ maxConcurrent: 2 });
    const work = computations();
    const one = check(limiter, 'ip:198.51.100.7', work, 'one');
    const two = check(limiter, 'ip:198.51.100.7', work, 'two');
    const other = check(limiter, 'ip:203.0.113.9', work, 'other');
    await vi.advanceTimersByTimeAsync(0);
    expect(work.running()).toEqual(['one', 'other']);
    await work.finishNext();
    expect(work.running()).toEqual(['other', 'two']);
    await work.finishNext();
    await work.finishNext();
    expect((await Promise.all([one, two, other])).every((r) => r.ok)).toBe(true);
  });

  it('sheds a job of a key whose turn does not come within the wait', async () => {
    const limiter = limiterOf({ maxWaitMs: 1_000 });
    const work = computations();
    const stuck = check(limiter, 'k', work, 'stuck');
    const waiting = check(limiter, 'k', work, 'waiting');
    await advance(1_001);
    const shed = await waiting;
    expect(shed.ok ? null : shed.error).toBeInstanceOf(WorkOverloadedError);
    await work.finishNext();
    expect((await stuck).ok).toBe(true);
  });

  it('bounds the queue by the wait it implies at the measured cost, not by a count', async () => {
    for (const costMs of [100, 50]) {
      const limiter = limiterOf({ maxWaitMs: 1_000 });
      const work = computations();
      // One computation measures the cost.
      const first = check(limiter, 'warm-up', work, 'warm-up');
      await work.finishNext(costMs);
      await first;
      const answers = Array.from({ length: 40 }, (_, n) => check(limiter, `ip:${n}`, work, `c${n}`));
      await vi.advanceTimersByTimeAsync(0);
      const shedNow = (
        await Promise.all(answers.map((a) => Promise.race([a, Promise.resolve(null)])))
      ).filter((r) => r !== null && !r.ok).length;
      // Admitted: the one running and those that wait at most 1,000 ms for their turn.
      expect(40 - shedNow).toBe(1 + 1_000 / costMs);
      while (work.running().length > 0) await work.finishNext(costMs);
      await Promise.all(answers);
    }
  });

  it('lets a newcomer from a quiet address in ahead of a queued job of the busiest one', async () => {
    const limiter = limiterOf({ maxWaitMs: 300 });
    const work = computations();
    // Seven addresses flood; each has checked codes before.
    const flooders = Array.from({ length: 7 }, (_, n) => `ip:198.51.100.${n}`);
    for (const key of flooders) {
      for (let i = 0; i < 3; i++) {
        const done = check(limiter, key, work, `${key}#${i}`);
        await work.finishNext(100);
        await done;
      }
    }
    const flood = flooders.map((key) => check(limiter, key, work, `${key} again`));
    await vi.advanceTimersByTimeAsync(0);
    const rightCode = check(limiter, 'ip:203.0.113.8', work, 'the right code');
    while (work.running().length > 0) await work.finishNext(100);
    const answer = await rightCode;
    expect(answer.ok).toBe(true);
    const floodAnswers = await Promise.all(flood);
    expect(floodAnswers.filter((a) => !a.ok).length).toBeGreaterThan(0);
  });

  it('before any cost is measured, admits checks but sheds one whose turn is long overdue', async () => {
    const limiter = limiterOf({ maxWaitMs: 1_000 });
    const work = computations();
    const first = check(limiter, 'a', work, 'first');
    const second = check(limiter, 'b', work, 'second');
    await flush();
    expect(work.running()).toEqual(['first']);
    // Twice the wait it could have been admitted for, and still not its turn: shed.
    await advance(2_001);
    const shed = await second;
    expect(shed.ok ? null : shed.error).toBeInstanceOf(WorkOverloadedError);
    await work.finishNext(0);
    expect((await first).ok).toBe(true);
  });

  it('frees its turn when a computation fails', async () => {
    const limiter = limiterOf();
    const work = computations();
    const failing = check(limiter, 'k', work, 'boom');
    await vi.advanceTimersByTimeAsync(0);
    work.started[0]!.fail(new Error('boom'));
    Object.assign(work.started[0]!, { done: true });
    const failed = await failing;
    expect(failed.ok ? null : (failed.error as Error).message).toBe('boom');
    const next = check(limiter, 'k', work, 'next');
    await work.finishNext();
    expect((await next).ok).toBe(true);
  });
});
