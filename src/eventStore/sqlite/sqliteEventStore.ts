import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BroadcastChannel } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  type AppendResult,
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
import { commitChannel } from './commitChannel.ts';
import { fromRawRow, toRecordedEvent } from './eventRows.ts';
import { GroupCommit, type ItemOutcome } from './groupCommit.ts';
import { migrate } from './migrations.ts';
import { boundPageCache } from './pageCache.ts';
import { type PreparedAppend, prepareAppend } from './preparedAppend.ts';
import { SqliteSubscription } from './sqliteSubscription.ts';
import { prepareStatements, type Statements } from './statements.ts';
import { StreamHeads } from './streamHeads.ts';
import { deserializeAppendError } from './writerMessages.ts';
import { type WriterObserver, WriterThread } from './writerThread.ts';

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
  /** for tests: told of each writer thread the store starts */
  readonly onWriterStarted?: WriterObserver;
};

/** Counters for observing group commit (tests, metrics). */
export type SqliteEventStoreStats = {
  /** transactions committed by the append queue */
  readonly committedBatches: number;
  /** appends acknowledged as written, retries included */
  readonly acknowledgedAppends: number;
  /** batches rolled back as a whole (every append in them was rejected) */
  readonly failedBatches: number;
  /** batches whose writer thread stopped before answering (their outcome unknown to the caller) */
  readonly unansweredBatches: number;
};

export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

const closedError = () => new StoreUnavailableError('the SQLite event store is closed');

/**
 * The embedded event store: one SQLite file in WAL mode. Reads run on the caller's thread,
 * on a connection of their own (they never wait for a write: WAL readers see the last
 * commit). Appends are queued and committed in batches by a writer thread that owns the
 * connection that writes (`writerThread.ts`), so the fsync of a commit — milliseconds on
 * many disks — never stops the thread that answers requests; an append resolves once its
 * batch is durable.
 */
export class SqliteEventStore implements EventStore {
  readonly filePath: string;
  readonly #db: Database.Database;
  readonly #statements: Statements;
  readonly #queue: GroupCommit<PreparedAppend, AppendResult>;
  readonly #writer: WriterThread;
  readonly #subscriptions = new Set<SqliteSubscription>();
  readonly #pageSize: number;
  readonly #pollIntervalMs: number;
  readonly #heads: StreamHeads;
  /** commits announced by writers in this process (other threads' stores on the same file) */
  #commits: BroadcastChannel | null = null;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  #stats = { committedBatches: 0, acknowledgedAppends: 0, failedBatches: 0, unansweredBatches: 0 };

  constructor(options: SqliteEventStoreOptions) {
    this.#pageSize = positiveInteger(options.pageSize ?? 500, 'pageSize');
    this.#pollIntervalMs = positiveInteger(options.pollIntervalMs ?? 250, 'pollIntervalMs');
    const busyTimeoutMs = positiveInteger(options.busyTimeoutMs ?? 5000, 'busyTimeoutMs');
    const maxBatchSize = positiveInteger(options.maxBatchSize ?? 1000, 'maxBatchSize');
    mkdirSync(options.dataDir, { recursive: true });
    this.filePath = join(options.dataDir, options.fileName ?? 'events.sqlite');
    this.#db = new Database(this.filePath);
    try {
      // First, so that everything below (switching to WAL, migrating) waits for a concurrent
      // opener instead of failing with SQLITE_BUSY.
      this.#db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      boundPageCache(this.#db);
      const journalMode = this.#db.pragma('journal_mode = WAL', { simple: true });
      if (journalMode !== 'wal') {
        throw new Error(`${this.filePath}: could not switch to WAL (journal_mode is ${String(journalMode)})`);
      }
      // FULL: in WAL mode NORMAL may lose the last commits on power loss (this connection
      // writes only migrations; the writer thread sets the same on its own).
      this.#db.pragma('synchronous = FULL');
      migrate(this.#db);
      this.#statements = prepareStatements(this.#db);
      const lastPosition = this.#statements.lastPosition;
      // One look a turn of the event loop: loads that run together (a status read loads the
      // user and the policy) share it. A turn handles no new request once it has started, so
      // what it saw is still all that was acknowledged before any request it serves.
      let seen: bigint | null = null;
      const forget = () => {
        seen = null;
      };
      this.#heads = new StreamHeads(() => {
        if (seen === null) {
          seen = lastPosition.get() ?? 0n;
          process.nextTick(forget);
        }
        return seen;
      });
    } catch (error) {
      this.#db.close();
      throw error;
    }
    this.#writer = new WriterThread({ filePath: this.filePath, busyTimeoutMs }, options.onWriterStarted);
    this.#queue = new GroupCommit((items) => this.#commitQueued(items), { maxBatchSize });
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
    if (this.#commits === null) {
      // Commits by another thread's writer on this file (not this store's: it wakes its own).
      const commits = commitChannel(this.filePath);
      commits.unref();
      commits.onmessage = () => {
        for (const subscription of this.#subscriptions) subscription.notify();
      };
      this.#commits = commits;
    }
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

  /**
   * The file answers a read, and — when the last writer thread stopped unasked — a new one
   * answers too: appends would fail meanwhile.
   */
  async ping(): Promise<void> {
    if (this.#state !== 'open') throw closedError();
    try {
      this.#statements.ping.get();
    } catch (cause) {
      throw new StoreUnavailableError(`${this.filePath} does not answer`, { cause });
    }
    if (this.#writer.failure !== null) await this.#writer.ping();
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
      await this.#queue.flushAll();
    } finally {
      for (const subscription of [...this.#subscriptions]) await subscription.close();
      this.#commits?.close();
      await this.#writer.close();
      this.#db.close();
      this.#state = 'closed';
    }
  }

  async #commitQueued(items: readonly PreparedAppend[]): Promise<ItemOutcome<AppendResult>[]> {
    let reply: Awaited<ReturnType<WriterThread['commit']>>;
    try {
      reply = await this.#writer.commit(items);
    } catch (error) {
      this.#stats.unansweredBatches += 1;
      throw error;
    }
    if (reply.kind === 'rolled-back') {
      this.#stats.failedBatches += 1;
      // Rolled back as a whole: nothing of this batch is stored, so a retry by event id is safe.
      throw new StoreUnavailableError(reply.reason);
    }
    this.#heads.committed(reply.lastBefore, reply.lastAfter, reply.heads);
    this.#stats.committedBatches += 1;
    this.#stats.acknowledgedAppends += reply.outcomes.filter((outcome) => outcome.ok).length;
    for (const subscription of this.#subscriptions) subscription.notify();
    return reply.outcomes.map((outcome) =>
      outcome.ok ? outcome : { ok: false, error: deserializeAppendError(outcome.error) },
    );
  }

  #readAllPage(after: bigint, limit: number): RecordedEvent[] {
    if (this.#state === 'closed') throw closedError();
    return this.#statements.readAllPage.all(after, limit).map(fromRawRow);
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
