import { describe, expect, it } from 'vitest';
import { liveBatches, nextMacrotask } from './liveBatches.ts';

/** A feed that answers from memory (microtasks) and waits a macrotask between bursts. */
async function* bursts(...groups: number[][]): AsyncGenerator<number> {
  for (const [index, group] of groups.entries()) {
    if (index > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    yield* group;
  }
}

const collect = async (feed: AsyncIterable<number>, maxSize: number) => {
  const batches: number[][] = [];
  for await (const batch of liveBatches(feed, maxSize)) batches.push(batch);
  return batches;
};

describe('live batches', () => {
  it('commit what arrived together in one batch, and a later arrival in the next', async () => {
    expect(await collect(bursts([1, 2, 3], [4], [5, 6]), 100)).toEqual([[1, 2, 3], [4], [5, 6]]);
  });

  it('close a batch at its maximum size, and keep the order', async () => {
    expect(await collect(bursts([1, 2, 3, 4, 5, 6, 7]), 3)).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('yield nothing for a feed that ends empty', async () => {
    expect(await collect(bursts(), 10)).toEqual([]);
  });

  it('close a batch at the first macrotask, so a lone event is not held back', async () => {
    let resolveSecond: (value: IteratorResult<number>) => void = () => {};
    const feed: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let calls = 0;
        return {
          next: () => {
            calls += 1;
            if (calls === 1) return Promise.resolve({ value: 1, done: false });
            if (calls === 2) return new Promise((resolve) => (resolveSecond = resolve));
            return Promise.resolve({ value: undefined, done: true });
          },
        };
      },
    };
    const iterator = liveBatches(feed, 10);
    expect(await iterator.next()).toEqual({ value: [1], done: false });
    const next = iterator.next();
    await nextMacrotask();
    resolveSecond({ value: 2, done: false });
    expect(await next).toEqual({ value: [2], done: false });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});
