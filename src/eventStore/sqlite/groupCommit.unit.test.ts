import { describe, expect, it } from 'vitest';
import { GroupCommit, type ItemOutcome } from './groupCommit.ts';

/** A queue whose flushes run only when the test says so, recording each batch it commits. */
function manualQueue(
  commit: (
    items: readonly number[],
  ) => readonly ItemOutcome<string>[] | Promise<readonly ItemOutcome<string>[]> = (items) =>
    items.map((item) => ({ ok: true, value: `v${item}` })),
  maxBatchSize?: number,
) {
  const scheduled: (() => void)[] = [];
  const batches: number[][] = [];
  const queue = new GroupCommit<number, string>(
    (items) => {
      batches.push([...items]);
      return commit(items);
    },
    { maxBatchSize, schedule: (flush) => scheduled.push(flush) },
  );
  /** Runs the scheduled flushes, and those they schedule once their batch has committed. */
  const runScheduled = async () => {
    for (let rounds = 0; rounds < 100; rounds++) {
      while (scheduled.length > 0) scheduled.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
      if (scheduled.length === 0) return;
    }
  };
  return { queue, batches, scheduled, runScheduled };
}

/** A queue whose batch holding item 1 commits only once the test releases it. */
function heldFirstBatch() {
  let release = () => {};
  const held = manualQueue(async (items) => {
    if (items[0] === 1) await new Promise<void>((resolve) => (release = resolve));
    return items.map((item) => ({ ok: true, value: `v${item}` }));
  });
  return { ...held, release: () => release() };
}

describe('GroupCommit', () => {
  it('commits everything submitted before the flush as one batch, in submission order', async () => {
    const { queue, batches, scheduled, runScheduled } = manualQueue();

    const results = [queue.submit(1), queue.submit(2), queue.submit(3)];
    expect(scheduled).toHaveLength(1);
    await runScheduled();

    expect(await Promise.all(results)).toEqual(['v1', 'v2', 'v3']);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch for what arrives after a flush', async () => {
    const { queue, batches, runScheduled } = manualQueue();

    const first = queue.submit(1);
    await runScheduled();
    const second = queue.submit(2);
    await runScheduled();

    expect([await first, await second]).toEqual(['v1', 'v2']);
    expect(batches).toEqual([[1], [2]]);
  });

  it('answers each item with its own outcome', async () => {
    const refusal = new Error('refused');
    const { queue, runScheduled } = manualQueue((items) =>
      items.map((item) => (item === 2 ? { ok: false, error: refusal } : { ok: true, value: `v${item}` })),
    );

    const outcomes = Promise.allSettled([queue.submit(1), queue.submit(2), queue.submit(3)]);
    await runScheduled();

    expect(await outcomes).toEqual([
      { status: 'fulfilled', value: 'v1' },
      { status: 'rejected', reason: refusal },
      { status: 'fulfilled', value: 'v3' },
    ]);
  });

  it('fails every item of a batch that failed as a whole', async () => {
    const failure = new Error('disk full');
    const { queue, runScheduled } = manualQueue(() => {
      throw failure;
    });

    const outcomes = Promise.allSettled([queue.submit(1), queue.submit(2)]);
    await runScheduled();

    expect((await outcomes).map((outcome) => outcome.status === 'rejected' && outcome.reason)).toEqual([
      failure,
      failure,
    ]);
  });

  it('fails the batch when the commit answers the wrong number of outcomes', async () => {
    const { queue, runScheduled } = manualQueue(() => [{ ok: true, value: 'only one' }]);

    const outcomes = Promise.allSettled([queue.submit(1), queue.submit(2)]);
    await runScheduled();

    for (const outcome of await outcomes) expect(outcome.status).toBe('rejected');
  });

  it('splits a burst into batches of at most maxBatchSize', async () => {
    const { queue, batches, runScheduled } = manualQueue(undefined, 2);

    const results = Promise.all([1, 2, 3, 4, 5].map((item) => queue.submit(item)));
    await runScheduled();

    expect(await results).toHaveLength(5);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('flushAll commits everything pending at once, without waiting for the schedule', async () => {
    const { queue, batches } = manualQueue(undefined, 2);

    const results = Promise.all([1, 2, 3].map((item) => queue.submit(item)));
    await queue.flushAll();

    expect(await results).toEqual(['v1', 'v2', 'v3']);
    expect(batches).toEqual([[1, 2], [3]]);
    expect(queue.pendingCount).toBe(0);
  });

  it('commits one batch at a time: what arrives while one commits is the next batch', async () => {
    const { queue, batches, runScheduled, release } = heldFirstBatch();

    const first = queue.submit(1);
    await runScheduled();
    const later = [queue.submit(2), queue.submit(3)];
    await runScheduled();
    expect(batches).toEqual([[1]]);
    release();
    expect(await first).toBe('v1');
    await runScheduled();

    expect(await Promise.all(later)).toEqual(['v2', 'v3']);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('fails every item of a batch whose asynchronous commit rejects, and goes on with the next', async () => {
    const failure = new Error('the writer stopped');
    const { queue, runScheduled } = manualQueue(async (items) => {
      if (items.includes(1)) throw failure;
      return items.map((item) => ({ ok: true, value: `v${item}` }));
    });

    const failed = Promise.allSettled([queue.submit(1)]);
    await runScheduled();
    const next = queue.submit(2);
    await runScheduled();

    expect((await failed)[0]).toEqual({ status: 'rejected', reason: failure });
    expect(await next).toBe('v2');
  });

  it('flushAll waits for the batch in flight, then commits what is left', async () => {
    const { queue, batches, runScheduled, release } = heldFirstBatch();
    const first = queue.submit(1);
    await runScheduled();
    const second = queue.submit(2);

    const flushed = queue.flushAll();
    release();
    await flushed;

    expect(await Promise.all([first, second])).toEqual(['v1', 'v2']);
    expect(batches).toEqual([[1], [2]]);
  });

  it('batches by default what is submitted within one turn of the event loop', async () => {
    const batches: number[][] = [];
    const queue = new GroupCommit<number, number>((items) => {
      batches.push([...items]);
      return items.map((item) => ({ ok: true, value: item }));
    });

    const sameTurn = [queue.submit(1), Promise.resolve().then(() => queue.submit(2))];
    await Promise.all(sameTurn);

    expect(batches).toEqual([[1, 2]]);
  });

  it('refuses a maxBatchSize below one', () => {
    expect(() => new GroupCommit(() => [], { maxBatchSize: 0 })).toThrow(RangeError);
  });
});
