const NOT_READY = Symbol('not ready');

/** Settles at the next macrotask: after every microtask queued before it has run. */
export const nextMacrotask = () =>
  new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));

/**
 * Groups a live feed into batches of what arrived together, so that a burst of events is
 * committed in one transaction and a lone event without delay. A batch closes at the first
 * macrotask after it opened — by then the feed has delivered everything it could without
 * waiting (a subscription answers in microtasks while it has events) — or at `maxSize`,
 * after which it yields a macrotask so that a long backlog does not keep HTTP requests
 * waiting. Ends when the feed does; whatever is batched then is the last batch.
 */
export async function* liveBatches<T>(feed: AsyncIterable<T>, maxSize: number): AsyncGenerator<T[]> {
  const iterator = feed[Symbol.asyncIterator]();
  let batch: T[] = [];
  let tick: Promise<typeof NOT_READY> | null = null;
  let pending = iterator.next();
  for (;;) {
    const result = tick === null ? await pending : await Promise.race([pending, tick]);
    if (result === NOT_READY) {
      yield batch;
      batch = [];
      tick = null;
      continue;
    }
    if (result.done) break;
    tick ??= nextMacrotask();
    batch.push(result.value);
    pending = iterator.next();
    if (batch.length >= maxSize) {
      yield batch;
      batch = [];
      tick = null;
      await nextMacrotask();
    }
  }
  if (batch.length > 0) yield batch;
}
