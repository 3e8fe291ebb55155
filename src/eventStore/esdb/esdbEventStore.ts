import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  type RecordedEvent as EsdbRecordedEvent,
  StreamDeletedError as EsdbStreamDeletedError,
  type EventStoreDBClient,
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
  StreamDeletedError,
  type Subscription,
} from '../eventStore.ts';
import { maxCountOf, nonNegativeBigint } from '../readOptions.ts';
import { drain, itemsOf, readLastEvent, WatchedStream } from './clientStreams.ts';
import { connectEsdb } from './connect.ts';
import type { ConnectionSettings } from './connectionString.ts';
import { toPortError, unavailable, withDeadline } from './errors.ts';
import { subscribeToDomainEvents } from './esdbSubscription.ts';
import { readAllFiltered } from './filteredReadAll.ts';
import {
  allPositionOf,
  appendOutcome,
  isSoftDeletedMetadata,
  isSystemEvent,
  positionOf,
  readAllStart,
  toEsdbExpectedRevision,
  toPortActualRevision,
  toRecordedEvent,
  UnaddressablePositionError,
  withEsdbTracingMetadata,
} from './mapping.ts';

/** Events asked of the server per read of `$all`: bounds what one call holds open. */
const READ_ALL_PAGE_SIZE = 1_000;

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
 *   the server and times out; it surfaces as StoreUnavailableError, and the repository sends
 *   the same events again (appendResolvingUnknownOutcome) until it learns the outcome.
 *
 * Every read and subscription asks for the leader (`requiresLeader`), and the connection
 * string may not prefer another node, so a read after an acknowledged append sees that
 * append; a node that lost leadership answers NotLeader and the client moves to the new one.
 *
 * Streams deleted by an operator: a tombstoned stream fails reads and appends with the
 * port's StreamDeletedError; a soft-deleted stream reads as empty (the server's answer), and
 * an append that would recreate it (`no-stream`) is refused with StreamDeletedError, since the
 * server would continue its old revision numbers instead of starting again at 0.
 *
 * Why one file of about 430 lines: each port operation here carries the server's own cases
 * (idempotent retries, positions a server leaves out, soft deletes, closing mid-call) next
 * to the call they qualify; the seams that stand alone have their own files (the live
 * subscription, the filtered `$all` read, the mapping, the client's streams and errors).
 */
export function openEsdbEventStore(connectionString: string): EventStore {
  const { client, settings } = connectEsdb(connectionString);
  return new EsdbEventStore(client, settings);
}

/** The adapter over a client the caller made (tests feed it the client's own answers). */
export function esdbEventStoreOver(client: EventStoreDBClient, settings: ConnectionSettings): EventStore {
  return new EsdbEventStore(client, settings);
}

const closedError = (cause?: unknown) =>
  new StoreUnavailableError(
    'the EventStoreDB event store is closed',
    cause === undefined ? undefined : { cause },
  );

/** Every read asks for the leader (see the class comment). */
const LEADER = { requiresLeader: true } as const;

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

  /**
   * The port's error for what the client threw. Once closing, whatever an operation still in
   * flight ends with (dispose() cancels its calls, which the client reports as an
   * UnknownError) is the closing, and says so.
   */
  #failure(operation: string, error: unknown, streamName?: string): unknown {
    if (this.#closed) return error instanceof StoreUnavailableError ? error : closedError(error);
    if (error instanceof EsdbStreamDeletedError && streamName !== undefined) {
      return new StreamDeletedError(streamName, 'tombstoned');
    }
    return toPortError(operation, error);
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
      if (expectedRevision === 'no-stream') await this.#refuseSoftDeleted(streamName);
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
      if (error instanceof WrongExpectedVersionError && !this.#closed) {
        throw new ConcurrencyConflictError(
          streamName,
          expectedRevision,
          toPortActualRevision(error.actualVersion),
        );
      }
      if (error instanceof StreamDeletedError) throw error;
      throw this.#failure('append', error, streamName);
    }
    const outcome = appendOutcome(result);
    if (outcome.kind === 'refused') {
      // The answer's revision is not the stream's (see appendOutcome): ask the stream.
      throw new ConcurrencyConflictError(
        streamName,
        expectedRevision,
        await this.#currentRevision(streamName),
      );
    }
    const position =
      outcome.position ?? (await this.#positionOfRevision(streamName, outcome.nextExpectedRevision));
    return { nextExpectedRevision: outcome.nextExpectedRevision, position };
  }

  /**
   * A soft-deleted stream reads as empty, but the server accepts a `no-stream` append to it
   * and numbers the new events after the deleted ones (IndexWriter.CheckCommit): the
   * stream would not start at revision 0, as the port promises. Its metadata says so.
   */
  async #refuseSoftDeleted(streamName: string): Promise<void> {
    const { metadata } = await withDeadline(
      'append',
      this.settings.defaultDeadlineMs,
      this.client.getStreamMetadata(streamName, LEADER),
    );
    if (isSoftDeletedMetadata(metadata)) throw new StreamDeletedError(streamName, 'soft-deleted');
  }

  /** The stream's last revision, for the report of a refused append. */
  async #currentRevision(streamName: string): Promise<bigint | 'no-stream'> {
    try {
      const last = await readLastEvent(this.client, streamName, {
        operation: 'readStream',
        idleMs: this.settings.defaultDeadlineMs,
      });
      return last === undefined ? 'no-stream' : last.revision;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return 'no-stream';
      throw this.#failure('readStream', error, streamName);
    }
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
      ...LEADER,
    });
    const watched = new WatchedStream(read);
    const items = itemsOf<ResolvedEvent>(watched, {
      operation: 'readStream',
      cancel: () => read.cancel(),
      idleMs: this.settings.defaultDeadlineMs,
    });
    // Events whose position the server did not send, waiting for the next one that has one:
    // they lie in $all between the last known position and that one.
    let unplaced: EsdbRecordedEvent[] = [];
    let lastKnown: bigint | undefined;
    const place = async (before: bigint | undefined) => {
      const after = lastKnown ?? (await this.#positionBefore(streamName, unplaced[0]!.revision));
      const found = await this.#locateInAll(streamName, unplaced, after, before);
      const placed = unplaced.map((event) => toRecordedEvent(event, found.get(event.id)!));
      unplaced = [];
      return placed;
    };
    try {
      for await (const resolved of items) {
        const event = resolved.event;
        if (event === undefined) continue;
        const position = positionOf(event, resolved.commitPosition);
        if (position === undefined) {
          unplaced.push(event);
          continue;
        }
        if (unplaced.length > 0) yield* await place(position);
        lastKnown = position;
        yield toRecordedEvent(event, position);
      }
      if (unplaced.length > 0) yield* await place(undefined);
    } catch (error) {
      // The server answers a read of a stream that never existed (or was soft-deleted) with
      // a "stream not found" message before any event, which the client throws while iterating.
      if (error instanceof StreamNotFoundError) return;
      if (error instanceof UnaddressablePositionError) throw error;
      throw this.#failure('readStream', error, streamName);
    }
  }

  /** A position at or before the event at `revision` of the stream: its predecessor's, if known. */
  async #positionBefore(streamName: string, revision: bigint): Promise<bigint> {
    if (revision === 0n) return 0n;
    const read = this.client.readStream(streamName, {
      direction: FORWARDS,
      fromRevision: revision - 1n,
      maxCount: 1,
      ...LEADER,
    });
    for await (const resolved of itemsOf<ResolvedEvent>(new WatchedStream(read), {
      operation: 'readStream',
      cancel: () => read.cancel(),
      idleMs: this.settings.defaultDeadlineMs,
    })) {
      if (resolved.event !== undefined) return positionOf(resolved.event, resolved.commitPosition) ?? 0n;
    }
    return 0n;
  }

  /**
   * Finds the positions of a stream's events in `$all`, reading it from `after` (a position
   * at or before the first of them) up to `before` (the position of the stream's next event,
   * when known). Only servers that leave positions out of stream reads get here.
   */
  async #locateInAll(
    streamName: string,
    events: readonly EsdbRecordedEvent[],
    after: bigint,
    before: bigint | undefined,
  ): Promise<Map<string, bigint>> {
    const wanted = new Set(events.map((event) => event.id));
    const found = new Map<string, bigint>();
    for await (const event of this.#readAll({ after })) {
      if (before !== undefined && event.position >= before) break;
      if (event.streamName === streamName && wanted.has(event.id)) {
        found.set(event.id, event.position);
        if (found.size === wanted.size) return found;
      }
    }
    throw new UnaddressablePositionError(
      `EventStoreDB did not report the log position of ${wanted.size - found.size} event(s) of stream ` +
        `${streamName}, and they were not found in $all`,
    );
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    return this.#readAll(options);
  }

  async *#readAll(options: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    if (this.#closed) throw closedError();
    let cursor = nonNegativeBigint(options.after ?? 0n, 'after');
    let remaining = maxCountOf(options.maxCount);
    // The server filters out system streams and the key store's (see filteredReadAll.ts); the
    // check below also drops the `$` events of other streams (a tombstone's `$streamDeleted`).
    try {
      while (remaining > 0) {
        // readAll is inclusive of its start (AllReader.ReadAllEventsForward keeps events
        // `>= pos`: "for forward pass position is inclusive"), so the event at the cursor
        // comes again and is skipped; hence the one extra.
        const pageSize = Math.min(READ_ALL_PAGE_SIZE, remaining + 1);
        const read = readAllFiltered(this.client, { fromPosition: readAllStart(cursor), maxCount: pageSize });
        const items = itemsOf<AllStreamResolvedEvent>(new WatchedStream(read), {
          operation: 'readAll',
          cancel: () => read.cancel(),
          idleMs: this.settings.defaultDeadlineMs,
        });
        let seen = 0;
        for await (const resolved of items) {
          seen += 1;
          const event = resolved.event;
          if (event === undefined) continue;
          const position = allPositionOf(event, resolved.commitPosition);
          if (position <= cursor) continue;
          cursor = position;
          if (isSystemEvent(event)) continue;
          yield toRecordedEvent(event, position);
          remaining -= 1;
          if (remaining <= 0) return;
        }
        if (seen < pageSize) return;
      }
    } catch (error) {
      if (error instanceof UnaddressablePositionError) throw error;
      throw this.#failure('readAll', error);
    }
  }

  subscribeToAll(options: { readonly after?: bigint } = {}): Subscription {
    if (this.#closed) throw closedError();
    const after = nonNegativeBigint(options.after ?? 0n, 'after');
    return subscribeToDomainEvents(this.client, {
      after,
      confirmWithinMs: this.settings.defaultDeadlineMs,
      failure: (operation, error) => this.#failure(operation, error),
      subscriptions: this.#subscriptions,
    });
  }

  async ping(): Promise<void> {
    if (this.#closed) throw closedError();
    // The last event of $all is one cheap round trip, and it proves the permission the
    // projections need (reading $all) as well as reachability.
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, ...LEADER });
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
