import { describe, expect, it } from 'vitest';
import { GroupCommit, type ItemOutcome } from './groupCommit.ts';

/** A queue whose flushes run only when the test says so, recording each batch it commits. */
function manualQueue(
  commit: (items: readonly number[]) => readonly ItemOutcome<string>[] = (items) =>
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
  const runScheduled = () => {
    while (scheduled.length > 0) scheduled.shift()!();
  };
  return { queue, batches, scheduled, runScheduled };
}

describe('GroupCommit', () => {
  it('commits everything submitted before the flush as one batch, in submission order', async () => {
    const { queue, batches, scheduled, runScheduled } = manualQueue();

    const results = [queue.submit(1), queue.submit(2), queue.submit(3)];
    expect(scheduled).toHaveLength(1);
    runScheduled();

    expect(await Promise.all(results)).toEqual(['v1', 'v2', 'v3']);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch for what arrives after a flush', async () => {
    const { queue, batches, runScheduled } = manualQueue();

    const first = queue.submit(1);
    runScheduled();
    const second = queue.submit(2);
    runScheduled();

    expect([await first, await second]).toEqual(['v1', 'v2']);
    expect(batches).toEqual([[1], [2]]);
  });

  it('answers each item with its own outcome', async () => {
    const refusal = new Error('refused');
    const { queue, runScheduled } = manualQueue((items) =>
      items.map((item) => (item === 2 ? { ok: false, error: refusal } : { ok: true, value: `v${item}` })),
    );

    const outcomes = Promise.allSettled([queue.submit(1), queue.submit(2), queue.submit(3)]);
    runScheduled();

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
    runScheduled();

    expect((await outcomes).map((outcome) => outcome.status === 'rejected' && outcome.reason)).toEqual([
      failure,
      failure,
    ]);
  });

  it('fails the batch when the commit answers the wrong number of outcomes', async () => {
    const { queue, runScheduled } = manualQueue(() => [{ ok: true, value: 'only one' }]);

    const outcomes = Promise.allSettled([queue.submit(1), queue.submit(2)]);
    runScheduled();

    for (const outcome of await outcomes) expect(outcome.status).toBe('rejected');
  });

  it('splits a burst into batches of at most maxBatchSize', async () => {
    const { queue, batches, runScheduled } = manualQueue(undefined, 2);

    const results = Promise.all([1, 2, 3, 4, 5].map((item) => queue.submit(item)));
    runScheduled();

    expect(await results).toHaveLength(5);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('flushAll commits everything pending at once, without waiting for the schedule', async () => {
    const { queue, batches } = manualQueue(undefined, 2);

    const results = Promise.all([1, 2, 3].map((item) => queue.submit(item)));
    queue.flushAll();

    expect(await results).toEqual(['v1', 'v2', 'v3']);
    expect(batches).toEqual([[1, 2], [3]]);
    expect(queue.pendingCount).toBe(0);
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
