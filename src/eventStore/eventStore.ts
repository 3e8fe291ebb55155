/**
 * The event store port. Two adapters implement it (embedded SQLite, EventStoreDB) and one
 * contract suite (`test/eventStore/contract.ts`) proves they behave the same.
 *
 * Revisions are 0-based per stream (the first event of a stream has revision 0n).
 * Positions are the global log order: strictly increasing, bigint-safe, opaque to callers
 * apart from ordering; `0n` is never a real position, so "after 0n" means "from the start".
 */

export type JsonObject = { readonly [key: string]: unknown };

export type ExpectedRevision =
  /** the stream must not exist yet */
  | 'no-stream'
  /** no check (used only by tooling, never by command handling) */
  | 'any'
  /** the stream's last event must have exactly this revision */
  | bigint;

export type EventToAppend = {
  /** UUID; a retried append with the same ids is acknowledged without writing again */
  readonly id: string;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
};

export type RecordedEvent = {
  readonly id: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: Date;
};

export type AppendResult = {
  /** revision of the stream's last event after the append */
  readonly nextExpectedRevision: bigint;
  /** global position of the last appended event */
  readonly position: bigint;
};

export type ReadStreamOptions = {
  /** first revision to read (inclusive); default 0n */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
};

export type ReadAllOptions = {
  /** read events strictly after this position; default: from the start */
  readonly after?: bigint;
  readonly maxCount?: number;
};

export interface Subscription extends AsyncIterable<RecordedEvent> {
  /** stops the subscription; the iterator then ends */
  close(): Promise<void>;
}

export interface EventStore {
  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult>;
  /** events of one stream in revision order; an unknown stream reads as empty */
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** every (non-system) event in global order */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /** catch up from `after`, then follow new events live until closed */
  subscribeToAll(options?: { readonly after?: bigint }): Subscription;
  /** resolves when the store answers; rejects with StoreUnavailableError otherwise */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when an append's expected revision does not match the stream. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no-stream',
  ) {
    super(`stream ${streamName}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/**
 * Thrown when the store cannot be reached or did not answer in time. A read can simply be
 * tried again. An append may or may not have been written: sending the very same events
 * again (same ids, same expected revision) is idempotent on both adapters, which is how the
 * repository learns the outcome.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Thrown when a stream was deleted in the store by its operator (EventStoreDB's delete or
 * tombstone; this service never deletes a stream): its events can no longer be read, and it
 * cannot be written to as if it were new.
 */
export class StreamDeletedError extends Error {
  override readonly name = 'StreamDeletedError';
  constructor(
    readonly streamName: string,
    readonly how: 'tombstoned' | 'soft-deleted',
  ) {
    super(
      `stream ${streamName} was ${how === 'tombstoned' ? 'tombstoned' : 'deleted'} in the event store by its operator`,
    );
  }
}
