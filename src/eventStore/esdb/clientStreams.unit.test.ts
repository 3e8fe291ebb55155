import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../eventStore.ts';
import { itemsOf, WatchedStream } from './clientStreams.ts';

/** Stands in for the client's object-mode Readables. */
const fakeStream = () => new PassThrough({ objectMode: true });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) collected.push(item);
  return collected;
}

describe('itemsOf', () => {
  it('yields every item, in order, and leaves a completed call alone', async () => {
    const stream = fakeStream();
    const cancel = vi.fn(async () => {});
    const items = itemsOf<number>(new WatchedStream(stream), { operation: 'read', cancel });
    stream.write(1);
    stream.write(2);
    stream.end(3);

    expect(await collect(items)).toEqual([1, 2, 3]);
    expect(cancel).not.toHaveBeenCalled();
  });

  it('throws an error the client emitted before anyone iterated, even though the stream then ended', async () => {
    const stream = fakeStream();
    const watched = new WatchedStream(stream);
    const failure = new Error('14 UNAVAILABLE');
    // What the client does: emit 'error' itself, then end the piped Readable.
    stream.emit('error', failure);
    stream.end();

    await expect(collect(itemsOf(watched, { operation: 'read', cancel: async () => {} }))).rejects.toBe(
      failure,
    );
  });

  it('throws an error emitted while waiting, and cancels the call', async () => {
    const stream = fakeStream();
    const cancel = vi.fn(async () => {});
    const items = collect(itemsOf<number>(new WatchedStream(stream), { operation: 'read', cancel }));
    stream.write(1);
    await new Promise((resolve) => setImmediate(resolve));
    const failure = new Error('connection reset');
    stream.emit('error', failure);

    await expect(items).rejects.toBe(failure);
    expect(cancel).toHaveBeenCalledTimes(1);
  });

  it('gives up waiting after the idle deadline with StoreUnavailableError, and cancels the call', async () => {
    const stream = fakeStream();
    const cancel = vi.fn(async () => {});
    const started = Date.now();

    const outcome = collect(
      itemsOf(new WatchedStream(stream), { operation: 'readStream', cancel, idleMs: 50 }),
    );

    await expect(outcome).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(outcome).rejects.toThrow(/\(readStream\): no answer within 50 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cancel).toHaveBeenCalledTimes(1);
  });

  it('times each wait, not the whole read', async () => {
    const stream = fakeStream();
    const items = itemsOf<number>(new WatchedStream(stream), {
      operation: 'readAll',
      cancel: async () => {},
      idleMs: 80,
    });
    const feeding = (async () => {
      for (let n = 0; n < 5; n += 1) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        stream.write(n);
      }
      stream.end();
    })();

    expect(await collect(items)).toEqual([0, 1, 2, 3, 4]);
    await feeding;
  });

  it('ends at once, while waiting, when stopped', async () => {
    const stream = fakeStream();
    const cancel = vi.fn(async () => {});
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const items = collect(itemsOf<number>(new WatchedStream(stream), { operation: 'sub', cancel, stopped }));
    stream.write(1);
    await new Promise((resolve) => setImmediate(resolve));

    stop();

    expect(await items).toEqual([1]);
    expect(cancel).toHaveBeenCalledTimes(1);
  });

  it('cancels the call when the consumer leaves early', async () => {
    const stream = fakeStream();
    const cancel = vi.fn(async () => {});
    stream.write(1);
    stream.write(2);

    for await (const item of itemsOf<number>(new WatchedStream(stream), { operation: 'read', cancel })) {
      expect(item).toBe(1);
      break;
    }

    expect(cancel).toHaveBeenCalledTimes(1);
  });

  it('keeps the first failure when several are reported', () => {
    const watched = new WatchedStream(fakeStream());
    const first = new Error('first');
    watched.fail(first);
    watched.fail(new Error('second'));
    expect(watched.failure).toBe(first);
  });
});
