import { BACKWARDS, END, type EventStoreDBClient, type ResolvedEvent } from '@eventstore/db-client';
import { unavailable } from './errors.ts';

/*
 * Iterating the Readables of @eventstore/db-client 6.2.1 (StreamingRead, Subscription) safely.
 *
 * What the client does, and why each rule below exists:
 * - It emits 'error' on its Readables itself (not through destroy), possibly before anyone
 *   iterates. Without a listener that crashes the process, and an iterator created later
 *   would not see the error and would end as if the read were complete.
 * - Its reads and subscriptions run with `deadline: Infinity` whatever the caller passes,
 *   and gRPC has no connect timeout: against a server that accepts TCP but never speaks
 *   HTTP/2 a read waits forever (observed). Reads therefore get an idle deadline per item.
 * - Leaving a for-await early destroys the Readable but not the gRPC call behind it, which
 *   stays open until cancelled.
 */

/** The part of the client's Readables used here. */
export type ClientStream = AsyncIterable<unknown> & {
  on(event: 'error', listener: (error: Error) => void): unknown;
};

/** A client stream whose first failure is remembered from the moment it is created. */
export class WatchedStream {
  #failure: Error | undefined;
  #signalFailure: () => void = () => {};
  /** resolves when the first failure is recorded */
  readonly failed: Promise<void>;

  constructor(readonly stream: ClientStream) {
    this.failed = new Promise((resolve) => {
      this.#signalFailure = resolve;
    });
    stream.on('error', (error) => this.fail(error));
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Records a failure found outside the stream (a missing confirmation); the first one wins. */
  fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#signalFailure();
  }
}

export type ItemsOptions = {
  /** names the operation in StoreUnavailableError messages */
  readonly operation: string;
  /** ends the underlying gRPC call; runs whenever iteration ends before the stream did */
  readonly cancel: () => Promise<void>;
  /** when it resolves, the iteration ends at once, even while waiting for an item */
  readonly stopped?: Promise<void>;
  /** the longest wait for one item before the store counts as unavailable (reads only) */
  readonly idleMs?: number;
};

/** The items of a watched client stream, ending or failing as described above. */
export async function* itemsOf<T>(watched: WatchedStream, options: ItemsOptions): AsyncGenerator<T> {
  let stopSignalled = false;
  const never = new Promise<never>(() => {});
  const stop =
    options.stopped === undefined
      ? never
      : options.stopped.then((): IteratorReturnResult<undefined> => {
          stopSignalled = true;
          return { done: true, value: undefined };
        });
  const failed = watched.failed.then((): never => {
    throw watched.failure;
  });
  // Raced below, and rejects by design; it must not count as unhandled when nobody races it.
  failed.catch(() => {});
  const iterator = watched.stream[Symbol.asyncIterator]();
  let finished = false;
  try {
    while (true) {
      let timer: NodeJS.Timeout | undefined;
      const idle =
        options.idleMs === undefined
          ? never
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                reject(unavailable(options.operation, new Error(`no answer within ${options.idleMs} ms`)));
              }, options.idleMs);
              timer.unref();
            });
      let next: IteratorResult<unknown>;
      try {
        next = await Promise.race([iterator.next(), stop, failed, idle]);
      } finally {
        clearTimeout(timer);
      }
      if (stopSignalled) return;
      if (next.done) break;
      yield next.value as T;
    }
    finished = true;
  } catch (error) {
    throw watched.failure ?? error;
  } finally {
    if (!finished) {
      await options.cancel().catch(() => {});
      // Not awaited: while a next() is still pending it would wait for that one.
      iterator.return?.().catch(() => {});
    }
  }
  // The client may end the Readable normally after having emitted the error.
  if (watched.failure !== undefined) throw watched.failure;
}

/** Consumes an iteration, for calls where only the answer matters. */
export async function drain(items: AsyncIterable<unknown>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  while (!(await iterator.next()).done) {
    // nothing to keep
  }
}

/**
 * The last event of a stream, read backwards from the leader; undefined when the stream has
 * none. The client's errors (a stream never written, one deleted) are the caller's to map.
 */
export async function readLastEvent(
  client: EventStoreDBClient,
  streamName: string,
  options: { readonly operation: string; readonly idleMs: number },
): Promise<ResolvedEvent['event']> {
  const read = client.readStream(streamName, {
    direction: BACKWARDS,
    fromRevision: END,
    maxCount: 1,
    requiresLeader: true,
  });
  for await (const resolved of itemsOf<ResolvedEvent>(new WatchedStream(read), {
    operation: options.operation,
    cancel: () => read.cancel(),
    idleMs: options.idleMs,
  })) {
    if (resolved.event !== undefined) return resolved.event;
  }
  return undefined;
}
