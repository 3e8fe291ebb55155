import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  type JSONType,
  jsonEvent,
  type ResolvedEvent,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { assertAppendInput } from '../appendInput.ts';
import {
  type AppendResult,
  ConcurrencyConflictError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  StoreUnavailableError,
  type Subscription,
} from '../eventStore.ts';
import { drain, itemsOf, WatchedStream } from './clientStreams.ts';
import {
  type ConnectionSettings,
  InvalidConnectionStringError,
  inspectConnectionString,
  redactCredentials,
} from './connectionString.ts';
import { toPortError, unavailable, withDeadline } from './errors.ts';
import { maxCountOf, nonNegativeBigint } from './input.ts';
import {
  isSystemEvent,
  readAllStart,
  toEsdbExpectedRevision,
  toPortActualRevision,
  toRecordedEvent,
  withEsdbTracingMetadata,
} from './mapping.ts';

/** Events asked of the server per read of `$all`; system events interleave, so we page. */
const READ_ALL_PAGE_SIZE = 1_000;
const MIN_READ_ALL_PAGE_SIZE = 100;

/**
 * The event store port on EventStoreDB / KurrentDB through @eventstore/db-client 6.x.
 *
 * Idempotent appends are the server's (IndexWriter.CheckCommit in EventStore/EventStore):
 * - expected revision `no-stream` or an exact revision: when the stream already holds, right
 *   after that revision, events with exactly the given ids in the same order, the append is
 *   acknowledged again without writing (answer: the revision and position of the original
 *   last event). This is checked against the index, so it holds for any age of the original
 *   write. If only some of them match, or others follow at that place, it is a conflict.
 * - `any`: deduplicated only while the ids are still in the server's in-memory cache of
 *   recently committed events (ESConsts.CommitedEventsMemCacheLimit, 8 MiB; emptied by a
 *   restart or a new leader) — best effort, which is why command handling never uses it.
 * - a retry that arrives before the original write is replicated to a quorum is dropped by
 *   the server and times out; it surfaces as StoreUnavailableError and is safe to retry.
 *
 * Reads and subscriptions assume the connection's node preference is the leader (the
 * client's default), so that a read after an acknowledged append sees that append.
 */
export function openEsdbEventStore(connectionString: string): EventStore {
  const settings = inspectConnectionString(connectionString);
  let client: EventStoreDBClient;
  try {
    client = EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    throw new InvalidConnectionStringError(
      `EVENTSTORE_CONNECTION_STRING is not valid: ${describeParseError(error)}`,
    );
  }
  return new EsdbEventStore(client, settings);
}

/**
 * The client's ParseError keeps the whole string (password included) in a property and
 * quotes a slice of it in its message, so neither is passed on: only what it expected where.
 */
function describeParseError(error: unknown): string {
  const { expected, location } = (error ?? {}) as { expected?: unknown; location?: unknown };
  if (typeof expected === 'string' && Array.isArray(location) && typeof location[0] === 'number') {
    return `expected ${expected} at character ${location[0]}`;
  }
  return error instanceof Error ? redactCredentials(error.message) : 'unparsable';
}

const closedError = () => new StoreUnavailableError('the EventStoreDB event store is closed');

class EsdbEventStore implements EventStore {
  #closing: Promise<void> | undefined;
  readonly #subscriptions = new Set<{ close(): Promise<void> }>();

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly settings: ConnectionSettings,
  ) {}

  get #closed(): boolean {
    return this.#closing !== undefined;
  }

  async appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    // The client would quietly reconnect after dispose(); a closed store must say so instead.
    if (this.#closed) throw closedError();
    const expectedRevision = options?.expectedRevision;
    assertAppendInput(streamName, events, expectedRevision);
    const proposed = events.map((event) =>
      jsonEvent({
        id: event.id,
        type: event.type,
        data: event.data as JSONType,
        metadata: withEsdbTracingMetadata(event.metadata),
      }),
    );
    let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
    try {
      result = await withDeadline(
        'append',
        // One second on top of the server-side write deadline, so that the server's own
        // timeout answer wins whenever the server is there to give it.
        this.settings.defaultDeadlineMs + 1_000,
        this.client.appendToStream(streamName, proposed, {
          expectedRevision: toEsdbExpectedRevision(expectedRevision),
        }),
      );
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        throw new ConcurrencyConflictError(
          streamName,
          expectedRevision,
          toPortActualRevision(error.actualVersion),
        );
      }
      throw toPortError('append', error);
    }
    const position =
      result.position?.commit ?? (await this.#positionOfRevision(streamName, result.nextExpectedRevision));
    return { nextExpectedRevision: result.nextExpectedRevision, position };
  }

  /**
   * The server leaves the position out of an append's answer when it does not know it (an
   * idempotent retry whose original event it failed to look up); the event itself knows.
   */
  async #positionOfRevision(streamName: string, revision: bigint): Promise<bigint> {
    for await (const event of this.readStream(streamName, { fromRevision: revision, maxCount: 1 })) {
      return event.position;
    }
    throw new Error(`stream ${streamName} has no event at revision ${revision} right after appending it`);
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#readStream(streamName, options);
  }

  async *#readStream(streamName: string, options: ReadStreamOptions): AsyncGenerator<RecordedEvent> {
    if (this.#closed) throw closedError();
    const fromRevision = nonNegativeBigint(options.fromRevision ?? 0n, 'fromRevision');
    const maxCount = maxCountOf(options.maxCount);
    if (maxCount === 0) return;
    const read = this.client.readStream(streamName, {
      direction: FORWARDS,
      fromRevision,
      ...(maxCount === Number.POSITIVE_INFINITY ? {} : { maxCount }),
    });
    const watched = new WatchedStream(read);
    const items = itemsOf<ResolvedEvent>(watched, {
      operation: 'readStream',
      cancel: () => read.cancel(),
      idleMs: this.settings.defaultDeadlineMs,
    });
    try {
      for await (const resolved of items) {
        if (resolved.event === undefined) continue;
        yield toRecordedEvent(resolved.event, resolved.commitPosition);
      }
    } catch (error) {
      // The server answers a read of a stream that never existed with a "stream not found"
      // message before any event, which the client throws while iterating.
      if (error instanceof StreamNotFoundError) return;
      throw toPortError('readStream', error);
    }
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#readAll(options);
  }

  async *#readAll(options: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    if (this.#closed) throw closedError();
    let cursor = nonNegativeBigint(options.after ?? 0n, 'after');
    let remaining = maxCountOf(options.maxCount);
    // Client 6.2.1 sends NoFilter on every readAll (only subscribeToAll takes a filter), so
    // system events come along and are dropped here; they interleave, hence the paging.
    try {
      while (remaining > 0) {
        // readAll is inclusive of its start (AllReader.ReadAllEventsForward keeps events
        // `>= pos`: "for forward pass position is inclusive"), so the event at the cursor
        // comes again and is skipped; hence the one extra. Small reads still ask for a
        // fair page: the log starts with hundreds of system events to step over.
        const pageSize = Math.min(READ_ALL_PAGE_SIZE, Math.max(MIN_READ_ALL_PAGE_SIZE, remaining + 1));
        const read = this.client.readAll({
          direction: FORWARDS,
          fromPosition: readAllStart(cursor),
          maxCount: pageSize,
        });
        const items = itemsOf<AllStreamResolvedEvent>(new WatchedStream(read), {
          operation: 'readAll',
          cancel: () => read.cancel(),
          idleMs: this.settings.defaultDeadlineMs,
        });
        let seen = 0;
        for await (const resolved of items) {
          seen += 1;
          const event = resolved.event;
          if (event === undefined || event.position.commit <= cursor) continue;
          // System events move the cursor too, so the next page starts past them.
          cursor = event.position.commit;
          if (isSystemEvent(event)) continue;
          yield toRecordedEvent(event, resolved.commitPosition);
          remaining -= 1;
          if (remaining <= 0) return;
        }
        if (seen < pageSize) return;
      }
    } catch (error) {
      throw toPortError('readAll', error);
    }
  }

  subscribeToAll(options: { readonly after?: bigint } = {}): Subscription {
    if (this.#closed) throw closedError();
    const after = nonNegativeBigint(options.after ?? 0n, 'after');
    // A catch-up subscription: the server reads history from the start position, then
    // switches to live events by itself. Its start position is exclusive ("The positions
    // provided to the subscriptions are exclusive", docs.kurrent.io/clients/grpc/subscriptions;
    // CatchupAllSubscription skips `position <= _startPosition`), which is the port's "after".
    // The server-side filter keeps system events off the wire; the check below also drops
    // the rare event in a `$` stream whose type has no `$`.
    const subscription = this.client.subscribeToAll({
      fromPosition: readAllStart(after),
      filter: excludeSystemEvents(),
    });
    // Watched from the start: the connection may fail before anyone iterates.
    const watched = new WatchedStream(subscription);
    // A live subscription may rightly wait forever for the next event, so it has no idle
    // deadline; instead the server must confirm it in time (its first message), after which
    // gRPC keepalive pings (10 s, the client's default) detect a connection that died.
    const unconfirmed = setTimeout(() => {
      watched.fail(unavailable('subscribeToAll', new Error('the server did not confirm the subscription')));
      void forget();
    }, this.settings.defaultDeadlineMs);
    unconfirmed.unref();
    subscription.once('confirmation', () => clearTimeout(unconfirmed));
    let stopRequested = false;
    let resolveStopped: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      resolveStopped = resolve;
    });
    const forget = async () => {
      clearTimeout(unconfirmed);
      this.#subscriptions.delete(handle);
      await subscription.unsubscribe().catch(() => {});
    };
    const handle = {
      close: async () => {
        stopRequested = true;
        resolveStopped();
        await forget();
      },
    };
    this.#subscriptions.add(handle);

    async function* events(): AsyncGenerator<RecordedEvent> {
      try {
        for await (const resolved of itemsOf<AllStreamResolvedEvent>(watched, {
          operation: 'subscribeToAll',
          cancel: forget,
          stopped,
        })) {
          if (stopRequested) return;
          const event = resolved.event;
          if (event === undefined || isSystemEvent(event)) continue;
          const recorded = toRecordedEvent(event, resolved.commitPosition);
          // Exclusive start, whatever the server version does.
          if (recorded.position <= after) continue;
          yield recorded;
        }
      } catch (error) {
        if (stopRequested) return;
        throw toPortError('subscribeToAll', error);
      }
      if (!stopRequested) {
        // The server never ends a subscription by itself; an end without close() is a lost
        // connection, and the caller resubscribes from its checkpoint.
        throw unavailable('subscribeToAll', new Error('the subscription ended without close()'));
      }
    }

    const iterator = events();
    return {
      [Symbol.asyncIterator]: () => iterator,
      close: handle.close,
    };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw closedError();
    // The last event of $all is one cheap round trip, and it proves the permission the
    // projections need (reading $all) as well as reachability.
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 });
    const items = itemsOf<AllStreamResolvedEvent>(new WatchedStream(read), {
      operation: 'ping',
      cancel: () => read.cancel(),
    });
    try {
      await withDeadline('ping', this.settings.defaultDeadlineMs, drain(items));
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      // Whatever kept the store from answering (access denied included) means not ready.
      throw unavailable('ping', error);
    } finally {
      await read.cancel().catch(() => {});
    }
  }

  /** Ends the subscriptions and the client's streams. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const subscription of [...this.#subscriptions]) await subscription.close();
      await this.client.dispose();
    })();
    return this.#closing;
  }
}
