import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EventIdConflictError } from '../eventIdConflictError.ts';
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
import { maxCountOf, nonNegativeBigint } from '../readOptions.ts';
import { toRecordedEvent } from './eventRows.ts';
import { expectedRevisionMatches, type StreamState } from './expectedRevision.ts';
import { GroupCommit, type ItemOutcome } from './groupCommit.ts';
import { checkForRetry } from './idempotentRetry.ts';
import { migrate } from './migrations.ts';
import { type PreparedAppend, prepareAppend } from './preparedAppend.ts';
import { SqliteSubscription } from './sqliteSubscription.ts';
import { prepareStatements, type Statements } from './statements.ts';
import { StreamHeads } from './streamHeads.ts';

export type SqliteEventStoreOptions = {
  readonly dataDir: string;
  /** default `events.sqlite` */
  readonly fileName?: string;
  /** rows fetched per query when reading or catching up; default 500 */
  readonly pageSize?: number;
  /** how often an idle subscription looks for appends made by another process; default 250 ms */
  readonly pollIntervalMs?: number;
  /** how long a write waits for another connection's write lock; default 5000 ms */
  readonly busyTimeoutMs?: number;
  /** most appends committed in one transaction; default 1000 */
  readonly maxBatchSize?: number;
};

/** Counters for observing group commit (tests, metrics). */
export type SqliteEventStoreStats = {
  /** transactions committed by the append queue */
  readonly committedBatches: number;
  /** appends acknowledged as written, retries included */
  readonly acknowledgedAppends: number;
  /** batches rolled back as a whole (every append in them was rejected) */
  readonly failedBatches: number;
};

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

const closedError = () => new StoreUnavailableError('the SQLite event store is closed');

/** Errors that concern one append only; anything else aborts the whole batch. */
function isAppendOwnError(error: unknown): boolean {
  return (
    error instanceof ConcurrencyConflictError ||
    error instanceof EventIdConflictError ||
    // A constraint failure aborts only its statement; the savepoint undoes the rest of that append.
    (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT'))
  );
}

export class SqliteEventStore implements EventStore {
  readonly filePath: string;
  readonly #db: Database.Database;
  readonly #statements: Statements;
  readonly #queue: GroupCommit<PreparedAppend, AppendResult>;
  readonly #commitBatch: (items: readonly PreparedAppend[]) => ItemOutcome<AppendResult>[];
  readonly #subscriptions = new Set<SqliteSubscription>();
  readonly #pageSize: number;
  readonly #pollIntervalMs: number;
  readonly #heads: StreamHeads;
  /** head changes of the batch being committed; applied once it has committed */
  #pendingHeads: [string, bigint | null][] = [];
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #stats = { committedBatches: 0, acknowledgedAppends: 0, failedBatches: 0 };

  constructor(options: SqliteEventStoreOptions) {
    this.#pageSize = positiveInteger(options.pageSize ?? 500, 'pageSize');
    this.#pollIntervalMs = positiveInteger(options.pollIntervalMs ?? 250, 'pollIntervalMs');
    const busyTimeoutMs = positiveInteger(options.busyTimeoutMs ?? 5000, 'busyTimeoutMs');
    mkdirSync(options.dataDir, { recursive: true });
    this.filePath = join(options.dataDir, options.fileName ?? 'events.sqlite');
    this.#db = new Database(this.filePath);
    try {
      // First, so that everything below (switching to WAL, migrating) waits for a concurrent
      // opener instead of failing with SQLITE_BUSY.
      this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      const journalMode = this.#db.pragma('journal_mode = WAL', { simple: true });
      if (journalMode !== 'wal') {
        throw new Error(`${this.filePath}: could not switch to WAL (journal_mode is ${String(journalMode)})`);
      }
      // FULL: in WAL mode NORMAL may lose the last commits on power loss, and an append is
      // acknowledged as durable.
      this.#db.pragma('synchronous = FULL');
      migrate(this.#db);
      this.#statements = prepareStatements(this.#db);
      const dataVersion = this.#statements.dataVersion;
      this.#heads = new StreamHeads(() => dataVersion.get()!);
    } catch (error) {
      this.#db.close();
      throw error;
    }

    // Nested better-sqlite3 transactions are SAVEPOINTs: a failing append is rolled back alone
    // while the batch around it goes on and commits.
    const appendInSavepoint = this.#db.transaction((append: PreparedAppend, recordedAt: string) =>
      this.#appendOne(append, recordedAt),
    );
    const batch = this.#db.transaction((items: readonly PreparedAppend[]) => {
      const recordedAt = new Date().toISOString();
      return items.map((item): ItemOutcome<AppendResult> => {
        try {
          return { ok: true, value: appendInSavepoint(item, recordedAt) };
        } catch (error) {
          if (isAppendOwnError(error)) return { ok: false, error };
          throw error;
        }
      });
    });
    // IMMEDIATE takes the write lock before the first read, so the revision checks see every
    // commit, including another process's, and nothing can slip in before our inserts.
    this.#commitBatch = (items) => batch.immediate(items);
    this.#queue = new GroupCommit((items) => this.#commitQueued(items), {
      maxBatchSize: options.maxBatchSize ?? 1000,
    });
  }

  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    if (this.#state !== 'open') return Promise.reject(closedError());
    let prepared: PreparedAppend;
    try {
      prepared = prepareAppend(streamName, events, options?.expectedRevision);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#queue.submit(prepared);
  }

  // Each loop over the returned iterable reads afresh, unlike a bare generator that is spent after one loop.
  readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    return { [Symbol.asyncIterator]: () => this.#readStream(streamName, options) };
  }

  readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    return { [Symbol.asyncIterator]: () => this.#readAll(options) };
  }

  subscribeToAll(options: { readonly after?: bigint } = {}): Subscription {
    if (this.#state !== 'open') throw closedError();
    const subscription = new SqliteSubscription(
      { readPage: (after, limit) => this.#readAllPage(after, limit) },
      {
        after: nonNegativeBigint(options.after ?? 0n, 'after'),
        pageSize: this.#pageSize,
        pollIntervalMs: this.#pollIntervalMs,
        onEnd: (ended) => this.#subscriptions.delete(ended),
      },
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async ping(): Promise<void> {
    if (this.#state !== 'open') throw closedError();
    try {
      this.#statements.ping.get();
    } catch (cause) {
      throw new StoreUnavailableError(`${this.filePath} does not answer`, { cause });
    }
  }

  /** Commits what is queued, ends the subscriptions, then closes the database. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  stats(): SqliteEventStoreStats {
    return { ...this.#stats };
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    try {
      this.#queue.flushAll();
    } finally {
      for (const subscription of [...this.#subscriptions]) await subscription.close();
      this.#db.close();
      this.#state = 'closed';
    }
  }

  #commitQueued(items: readonly PreparedAppend[]): ItemOutcome<AppendResult>[] {
    let outcomes: ItemOutcome<AppendResult>[];
    this.#pendingHeads = [];
    try {
      outcomes = this.#commitBatch(items);
    } catch (cause) {
      this.#pendingHeads = [];
      this.#stats.failedBatches += 1;
      // Rolled back as a whole: nothing of this batch is stored, so a retry by event id is safe.
      throw new StoreUnavailableError(
        `append batch of ${items.length} rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    for (const [streamName, head] of this.#pendingHeads) {
      if (head === null) this.#heads.forget(streamName);
      else this.#heads.remember(streamName, head);
    }
    this.#pendingHeads = [];
    this.#stats.committedBatches += 1;
    this.#stats.acknowledgedAppends += outcomes.filter((outcome) => outcome.ok).length;
    for (const subscription of this.#subscriptions) subscription.notify();
    return outcomes;
  }

  #appendOne(append: PreparedAppend, recordedAt: string): AppendResult {
    const { streamName, expectedRevision, events } = append;
    const last = this.#statements.lastRevision.get(streamName)?.revision ?? null;
    const current: StreamState = last === null ? 'no-stream' : last;

    // Before the revision check: a retry arrives with the revision the stream had before the
    // original append, which is stale by now, and must still be acknowledged.
    const stored = this.#statements.findByIds.all(JSON.stringify(events.map((event) => event.id)));
    const retry = checkForRetry(
      streamName,
      events.map((event) => event.id),
      stored,
    );
    if (retry.kind === 'retry') {
      if (!expectedRevisionMatches(expectedRevision, retry.streamStateBefore)) {
        throw new ConcurrencyConflictError(streamName, expectedRevision, current);
      }
      // The stream may have grown since the original append: its head is not known here.
      this.#pendingHeads.push([streamName, null]);
      return retry.result;
    }

    if (!expectedRevisionMatches(expectedRevision, current)) {
      throw new ConcurrencyConflictError(streamName, expectedRevision, current);
    }
    let revision = current === 'no-stream' ? 0n : current + 1n;
    let position = 0n;
    for (const event of events) {
      const row = this.#statements.insert.get(
        event.id,
        streamName,
        revision,
        event.type,
        event.data,
        event.metadata,
        recordedAt,
      );
      position = row!.position;
      revision += 1n;
    }
    // Under the write lock, these are the stream's last events: its head once committed.
    this.#pendingHeads.push([streamName, revision - 1n]);
    return { nextExpectedRevision: revision - 1n, position };
  }

  #readAllPage(after: bigint, limit: number): RecordedEvent[] {
    if (this.#state === 'closed') throw closedError();
    return this.#statements.readAllPage.all(after, limit).map(toRecordedEvent);
  }

  async *#readStream(streamName: string, options: ReadStreamOptions): AsyncGenerator<RecordedEvent> {
    let fromRevision = nonNegativeBigint(options.fromRevision ?? 0n, 'fromRevision');
    let remaining = maxCountOf(options.maxCount);
    while (remaining > 0) {
      if (this.#state === 'closed') throw closedError();
      const head = this.#heads.known(streamName);
      if (head !== undefined && fromRevision > head) return;
      const limit = Math.min(this.#pageSize, remaining);
      const rows = this.#statements.readStreamPage.all(streamName, fromRevision, limit);
      // Recorded before yielding: what the query saw is still all there is at this moment.
      if (rows.length < limit) this.#heads.remember(streamName, rows.at(-1)?.revision ?? fromRevision - 1n);
      for (const row of rows) yield toRecordedEvent(row);
      if (rows.length < limit) return;
      remaining -= rows.length;
      fromRevision = rows[rows.length - 1]!.revision + 1n;
    }
  }

  async *#readAll(options: ReadAllOptions): AsyncGenerator<RecordedEvent> {
    let after = nonNegativeBigint(options.after ?? 0n, 'after');
    let remaining = maxCountOf(options.maxCount);
    while (remaining > 0) {
      const limit = Math.min(this.#pageSize, remaining);
      const page = this.#readAllPage(after, limit);
      for (const event of page) yield event;
      if (page.length < limit) return;
      remaining -= page.length;
      after = page[page.length - 1]!.position;
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
