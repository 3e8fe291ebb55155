import { describe, expect, it } from 'vitest';
import { createWorkLimiter, WorkOverloadedError } from './workLimiter.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('work limiter', () => {
  it('runs at most maxConcurrent computations at once, and sheds jobs past the queue', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 2, maxQueued: 1 });
    let running = 0;
    let most = 0;
    const gates = [deferred(), deferred(), deferred()];
    const jobs = gates.map((gate) =>
      limiter.run((slot) =>
        slot(async () => {
          running++;
          most = Math.max(most, running);
          await gate.promise;
          running--;
          return 'done';
        }),
      ),
    );
    await expect(limiter.run((slot) => slot(async () => 'late'))).rejects.toBeInstanceOf(WorkOverloadedError);
    for (const gate of gates) gate.resolve();
    expect(await Promise.all(jobs)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(2);
    expect(await limiter.run((slot) => slot(async () => 'after'))).toBe('after');
  });

  it('admits a job of many computations as one, running them within the bound', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 2, maxQueued: 0 });
    let running = 0;
    let most = 0;
    const results = await limiter.run((slot) =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          slot(async () => {
            running++;
            most = Math.max(most, running);
            await new Promise((r) => setTimeout(r, 1));
            running--;
            return i;
          }),
        ),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(most).toBe(2);
  });

  it('frees its turn when a computation fails', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 1, maxQueued: 0 });
    await expect(
      limiter.run((slot) =>
        slot(async () => {
          throw new Error('boom');
        }),
      ),
    ).rejects.toThrow('boom');
    expect(await limiter.run((slot) => slot(async () => 'ok'))).toBe('ok');
  });
});
