import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import {
  type EventStore,
  type RecordedEvent,
  StoreUnavailableError,
  type Subscription,
} from '../eventStore/eventStore.ts';
import {
  type CheckpointStatements,
  openCheckpoints,
  type ProjectionStatus,
  readStatuses,
} from './checkpointStore.ts';
import type { Projection } from './projection.ts';
import {
  CheckpointMovedError,
  describeFailure,
  NewerProjectionVersionError,
  ProjectionFailedError,
  type RunnerFailure,
} from './runnerFailures.ts';
import type { RunnerLock } from './runnerLock.ts';

export type RunnerHealth = {
  /** everything up to the log's head as of the (re)start or the last reset is applied */
  readonly caughtUp: boolean;
  /** null while the runner makes progress */
  readonly failing: RunnerFailure | null;
  /** failures since the runner was created (each one followed by a retry) */
  readonly failures: number;
  /** each projection's checkpoint as this runner last committed or read it */
  readonly positions: readonly { readonly name: string; readonly position: bigint }[];
};

export type ProgressListener = (applied: number, total: number | null) => void;

export type ProjectionRunnerOptions = {
  readonly db: Database.Database;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  readonly logger?: Logger;
  /** most events committed in one transaction; default 500, and 5000 for an explicit rebuild */
  readonly batchSize?: number;
  /** first wait before retrying after a failure (doubling up to 30 s); default 500 ms */
  readonly retryDelayMs?: number;
  /**
   * Takes the single-writer lock of the read models (throws when another runner holds it);
   * called before the runner first writes, released when it stops. None: no lock (tests).
   */
  readonly lock?: () => RunnerLock;
};

const NOT_READY = Symbol('not ready');
const nextMacrotask = () =>
  new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));

/**
 * Folds the global log into the projections. Each projection has a checkpoint (name,
 * version, position as decimal text, and the id of the event at that position with the
 * position read just before it) written in the same SQLite transaction as the rows the
 * events produced, so after a crash it resumes exactly after the last event whose effect
 * was committed: nothing lost, nothing applied twice.
 *
 * Only one runner writes a read-model file at a time (`lock`), taken by `start()` or a
 * `rebuild()` and held until `stop()`; opening the runner and `status()` change nothing.
 *
 * Start: projections whose stored version is older than the code (or missing) are reset to
 * empty; a newer stored version is refused. Each catch-up first checks that every checkpoint
 * is still on the log — the event after the recorded previous position has the recorded
 * position and id — so that read models built from another log (a restored backup of the
 * embedded store, another EventStoreDB) are rebuilt from zero instead of silently skipping
 * the new log's events. Then it reads the log (`readAll`) from the lowest checkpoint to its
 * end, in batches of up to `batchSize` events a transaction; once that read ends, everything
 * up to the log's head as of the start is applied and `caughtUp()` resolves. Then a
 * subscription from the last applied position follows the log live; events that arrive
 * together are committed together (a batch ends when the subscription would have to wait).
 */
export class ProjectionRunner {
  readonly #db: Database.Database;
  readonly #store: EventStore;
  readonly #projections: readonly Projection[];
  readonly #logger: Logger | undefined;
  readonly #batchSize: number;
  readonly #rebuildBatchSize: number;
  readonly #retryDelayMs: number;
  readonly #takeLock: (() => RunnerLock) | undefined;
  #lock: RunnerLock | null = null;
  #statements: CheckpointStatements | null = null;
  #commitBatch:
    | ((
        events: readonly RecordedEvent[],
        before: bigint,
        projections: readonly Projection[],
      ) => { advanced: [string, bigint][]; failures: Error[] })
    | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #subscription: Subscription | null = null;
  #wakeRetry: (() => void) | null = null;
  #caughtUp = false;
  #caughtUpWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #failing: RunnerFailure | null = null;
  #failures = 0;
  /** each projection's checkpoint as this runner last committed or read it */
  readonly #expected = new Map<string, bigint>();

  constructor(options: ProjectionRunnerOptions) {
    this.#db = options.db;
    this.#store = options.store;
    this.#projections = options.projections;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 500;
    // A rebuild rewrites everything from the start: ten times fewer commits made it about half
    // as fast again (bench target 7). Following and catching up keep short batches, so that
    // HTTP requests are not kept waiting behind one.
    this.#rebuildBatchSize = options.batchSize ?? 5000;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    this.#takeLock = options.lock;
    const names = new Set(this.#projections.map((projection) => projection.name));
    if (names.size !== this.#projections.length) throw new Error('projection names must be unique');
  }

  get names(): readonly string[] {
    return this.#projections.map((projection) => projection.name);
  }

  /**
   * Takes the lock (once) and opens the checkpoints: the only way to the statements that
   * write, so nothing is written without the lock.
   */
  #ownCheckpoints(): CheckpointStatements {
    if (this.#statements !== null) return this.#statements;
    this.#lock ??= this.#takeLock?.() ?? null;
    let statements: CheckpointStatements;
    try {
      statements = openCheckpoints(this.#db);
    } catch (error) {
      this.#releaseLock();
      throw error;
    }
    this.#statements = statements;

    // One savepoint per projection inside the batch's transaction: a projection that fails
    // on an event loses only its own part of the batch; the others commit theirs (one fsync).
    const applyTo = this.#db.transaction(
      (projection: Projection, events: readonly RecordedEvent[], before: bigint): bigint | null => {
        // Read inside the transaction, under the write lock: the committed truth. If it is not
        // where this runner left it, something else moved it; applying on top would lose or
        // double events, so the batch is refused and the loop starts over from what is committed.
        const row = statements.read.get(projection.name);
        if (row === undefined || row.version !== projection.version) {
          throw new CheckpointMovedError(projection.name);
        }
        const checkpoint = BigInt(row.position);
        if (checkpoint !== this.#expected.get(projection.name))
          throw new CheckpointMovedError(projection.name);
        let last: RecordedEvent | null = null;
        for (const event of events) {
          // At or below the checkpoint: its effect is already committed.
          if (event.position <= checkpoint) continue;
          try {
            projection.apply(this.#db, event);
          } catch (cause) {
            throw new ProjectionFailedError(projection.name, event.position, { cause });
          }
          last = event;
        }
        if (last === null) return null;
        // The events were read in one run of the log, so the one before the last is its
        // predecessor in the log (the read started right after `before`).
        const previous = events.length > 1 ? events[events.length - 2]!.position : before;
        statements.write.run(
          projection.name,
          projection.version,
          last.position.toString(),
          last.id,
          previous.toString(),
        );
        return last.position;
      },
    );
    const batch = this.#db.transaction(
      (events: readonly RecordedEvent[], before: bigint, projections: readonly Projection[]) => {
        const advanced: [string, bigint][] = [];
        const failures: Error[] = [];
        for (const projection of projections) {
          try {
            const position = applyTo(projection, events, before);
            if (position !== null) advanced.push([projection.name, position]);
          } catch (error) {
            // SQLite itself gave up the transaction (disk full, I/O): nothing can commit.
            if (!(error instanceof ProjectionFailedError) || !this.#db.inTransaction) throw error;
            failures.push(error);
          }
        }
        return { advanced, failures };
      },
    );
    // IMMEDIATE: the write lock before the checkpoints are read.
    this.#commitBatch = (events, before, projections) => batch.immediate(events, before, projections);
    return statements;
  }

  #releaseLock(): void {
    this.#lock?.release();
    this.#lock = null;
  }

  /** Commits a batch; a projection that failed is thrown after the others' work is committed. */
  #commit(events: readonly RecordedEvent[], before: bigint, projections: readonly Projection[]): void {
    this.#ownCheckpoints();
    const { advanced, failures } = this.#commitBatch!(events, before, projections);
    for (const [name, position] of advanced) this.#expected.set(name, position);
    if (failures.length > 0) throw failures[0];
    this.#failing = null;
  }

  /**
   * Under the lock: a projection whose stored version is older than its code (or without a
   * checkpoint) is reset to empty at position zero, so the catch-up rebuilds it; a newer
   * stored version is refused before anything is changed.
   */
  #prepare(projections: readonly Projection[]): void {
    const statements = this.#ownCheckpoints();
    const rows = projections.map((projection) => ({ projection, row: statements.read.get(projection.name) }));
    const newer = rows.filter(({ projection, row }) => row !== undefined && row.version > projection.version);
    if (newer.length > 0) {
      throw new NewerProjectionVersionError(
        newer.map(({ projection, row }) => ({
          name: projection.name,
          stored: row!.version,
          known: projection.version,
        })),
      );
    }
    const stale: Projection[] = [];
    for (const { projection, row } of rows) {
      if (row !== undefined && row.version === projection.version) {
        projection.migrate(this.#db);
        continue;
      }
      if (row !== undefined) {
        this.#logger?.info(
          { projection: projection.name, from: row.version, to: projection.version },
          'projection version changed: rebuilding from the start of the log',
        );
      }
      stale.push(projection);
    }
    if (stale.length > 0) this.#resetToZero(stale);
  }

  #resetToZero(projections: readonly Projection[]): void {
    const statements = this.#ownCheckpoints();
    this.#db
      .transaction(() => {
        for (const projection of projections) {
          projection.reset(this.#db);
          projection.migrate(this.#db);
          statements.write.run(projection.name, projection.version, '0', null, null);
        }
      })
      .immediate();
    for (const projection of projections) this.#expected.set(projection.name, 0n);
    // What was served is gone until the catch-up brings it back: not ready meanwhile.
    this.#caughtUp = false;
  }

  /**
   * Each checkpoint of `projections` must name an event of this log: the first event after
   * its recorded previous position has its position and id (ids are UUIDs, unique per store).
   * Positions alone cannot tell: a restored store reuses them for new events, and a checkpoint
   * may lie beyond a shorter log's head. A projection whose checkpoint is not on the log is
   * rebuilt from zero.
   */
  async #verifyCheckpoints(projections: readonly Projection[]): Promise<void> {
    const statements = this.#ownCheckpoints();
    const verdicts = new Map<string, string | null>();
    const legacy: Projection[] = [];
    const mismatched: { projection: Projection; position: string; reason: string }[] = [];
    for (const projection of projections) {
      const row = statements.read.get(projection.name);
      if (row === undefined || row.position === '0') continue;
      if (row.event_id === null || row.previous_position === null) {
        legacy.push(projection);
        continue;
      }
      const key = `${row.previous_position}:${row.position}:${row.event_id}`;
      if (!verdicts.has(key)) {
        verdicts.set(
          key,
          await this.#checkOnLog(BigInt(row.previous_position), BigInt(row.position), row.event_id),
        );
      }
      const reason = verdicts.get(key)!;
      if (reason !== null) mismatched.push({ projection, position: row.position, reason });
    }
    if (legacy.length > 0) {
      this.#logger?.info(
        { projections: legacy.map((projection) => projection.name) },
        'checkpoints written by an older version do not name their event and cannot be checked against the log: rebuilding from the start of the log',
      );
    }
    for (const { projection, position, reason } of mismatched) {
      this.#logger?.error(
        { projection: projection.name, checkpoint: position, reason },
        `projection ${projection.name}: its checkpoint is not on the event log (was the store restored from a backup or replaced?); rebuilding it from the start of the log`,
      );
    }
    if (legacy.length + mismatched.length === 0) return;
    this.#resetToZero([...legacy, ...mismatched.map(({ projection }) => projection)]);
  }

  /** null when the event is where the checkpoint says; otherwise why not. */
  async #checkOnLog(previous: bigint, position: bigint, eventId: string): Promise<string | null> {
    let found: RecordedEvent | undefined;
    try {
      for await (const event of this.#store.readAll({ after: previous, maxCount: 1 })) {
        found = event;
        break;
      }
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      // The store answers but cannot read from a position it once gave: not the same log.
      return `the log cannot be read from position ${previous} (${error instanceof Error ? error.name : 'error'})`;
    }
    if (found === undefined) return `the log ends before position ${position}`;
    if (found.position !== position || found.id !== eventId) {
      return `the log has event ${found.id} at position ${found.position} where event ${eventId} at position ${position} was applied`;
    }
    return null;
  }

  /** Takes the committed checkpoints as this runner's own; returns the lowest. */
  #loadCheckpoints(projections: readonly Projection[]): bigint {
    const statements = this.#ownCheckpoints();
    let lowest: bigint | null = null;
    for (const projection of projections) {
      const row = statements.read.get(projection.name);
      const checkpoint = row === undefined ? 0n : BigInt(row.position);
      this.#expected.set(projection.name, checkpoint);
      if (lowest === null || checkpoint < lowest) lowest = checkpoint;
    }
    return lowest ?? 0n;
  }

  /**
   * Takes the lock and prepares the projections (throws ReadModelsLockedError when another
   * runner holds the lock, NewerProjectionVersionError for a newer stored version), then
   * catches up and follows in the background; returns at once.
   */
  start(): void {
    if (this.#loop !== null) return;
    this.#prepare(this.#projections);
    this.#loadCheckpoints(this.#projections);
    this.#stopping = false;
    this.#loop = this.#run();
  }

  isCaughtUp(): boolean {
    return this.#caughtUp;
  }

  health(): RunnerHealth {
    return {
      caughtUp: this.#caughtUp,
      failing: this.#failing,
      failures: this.#failures,
      positions: this.#projections.map((projection) => ({
        name: projection.name,
        position: this.#expected.get(projection.name) ?? 0n,
      })),
    };
  }

  /**
   * The store answered (readiness pinged it): a runner waiting to retry after the store
   * failed retries now instead of at the end of its back-off.
   */
  storeAnswered(): void {
    if (this.#failing?.storeUnavailable) this.#wakeRetry?.();
  }

  /** Resolves once everything up to the log's head as of the start is applied; rejects if stopped before. */
  caughtUp(): Promise<void> {
    if (this.#caughtUp) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#caughtUpWaiters.push({ resolve, reject });
    });
  }

  #settleCaughtUp(error?: Error): void {
    if (error === undefined) this.#caughtUp = true;
    const waiters = this.#caughtUpWaiters;
    this.#caughtUpWaiters = [];
    for (const waiter of waiters) {
      if (error === undefined) waiter.resolve();
      else waiter.reject(error);
    }
  }

  async #run(): Promise<void> {
    let delay = this.#retryDelayMs;
    while (!this.#stopping) {
      try {
        const after = await this.#catchUp(this.#projections, null);
        if (this.#stopping) break;
        this.#failing = null;
        if (!this.#caughtUp) {
          this.#logger?.info({ position: after.toString() }, 'projections caught up');
          this.#settleCaughtUp();
        }
        delay = this.#retryDelayMs;
        await this.#follow(after);
      } catch (error) {
        if (this.#stopping) break;
        this.#failures += 1;
        this.#failing = { since: this.#failing?.since ?? Date.now(), ...describeFailure(error) };
        this.#logger?.error({ err: error, retryInMs: delay }, 'projection runner failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          timer.unref();
          this.#wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wakeRetry = null;
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /**
   * Checks the checkpoints of `projections` against the log, then reads the log from the
   * lowest of them to its end, committing a batch at a time; returns the position of the
   * last event read (or the start when none).
   */
  async #catchUp(
    projections: readonly Projection[],
    onProgress: ProgressListener | null,
    batchSize = this.#batchSize,
  ): Promise<bigint> {
    await this.#verifyCheckpoints(projections);
    let after = this.#loadCheckpoints(projections);
    let batch: RecordedEvent[] = [];
    let before = after;
    let applied = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      this.#commit(batch, before, projections);
      applied += batch.length;
      after = batch[batch.length - 1]!.position;
      before = after;
      batch = [];
      onProgress?.(applied, null);
      // Lets HTTP requests (readiness, queries) in between batches of a long catch-up.
      await nextMacrotask();
    };
    for await (const event of this.#store.readAll({ after })) {
      if (this.#stopping) break;
      batch.push(event);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    return after;
  }

  async #follow(after: bigint): Promise<void> {
    const subscription = this.#store.subscribeToAll({ after });
    this.#subscription = subscription;
    if (this.#stopping) await subscription.close();
    const iterator = subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let before = after;
    // Settles at the first macrotask after a batch opened: by then the subscription has
    // delivered everything it could without waiting (it answers in microtasks while it has
    // events), so a batch is "what was available together".
    let tick: Promise<typeof NOT_READY> | null = null;
    const commit = () => {
      this.#commit(batch, before, this.#projections);
      before = batch[batch.length - 1]!.position;
      batch = [];
      tick = null;
    };
    try {
      let pending = iterator.next();
      for (;;) {
        const result = tick === null ? await pending : await Promise.race([pending, tick]);
        if (result === NOT_READY) {
          commit();
          continue;
        }
        if (result.done) break;
        tick ??= nextMacrotask();
        batch.push(result.value);
        pending = iterator.next();
        if (batch.length >= this.#batchSize) {
          commit();
          // A long backlog must not keep HTTP requests waiting.
          await nextMacrotask();
        }
      }
      if (batch.length > 0) commit();
    } finally {
      this.#subscription = null;
      await subscription.close();
    }
  }

  /** Stops the loop after the batch in progress and releases the lock; what was committed stays. */
  async stop(): Promise<void> {
    await this.#pause();
    this.#releaseLock();
    if (!this.#caughtUp) this.#settleCaughtUp(new Error('the projection runner stopped before catching up'));
  }

  /**
   * Empties the projection named (all when none) and applies the whole log to it again. A
   * running loop is paused for the rebuild and resumed after it. Takes the lock when this
   * runner does not hold it yet (a rebuild from the command line), until `stop()`.
   *
   * An explicit rebuild also resets a projection written by a newer version: it is how an
   * operator rolls the read models back to this version (the newer one rebuilds again).
   */
  async rebuild(name?: string, onProgress?: ProgressListener): Promise<void> {
    const targets =
      name === undefined
        ? this.#projections
        : this.#projections.filter((projection) => projection.name === name);
    if (targets.length === 0) {
      throw new RangeError(`no projection named ${name}; known: ${this.names.join(', ')}`);
    }
    const wasRunning = this.#loop !== null;
    if (wasRunning) await this.#pause();
    try {
      const statements = this.#ownCheckpoints();
      for (const projection of targets) {
        const row = statements.read.get(projection.name);
        if (row !== undefined && row.version > projection.version) {
          this.#logger?.warn(
            { projection: projection.name, from: row.version, to: projection.version },
            'rebuilding a projection written by a newer version for this older one',
          );
        }
      }
      this.#resetToZero(targets);
      this.#logger?.info(
        { projections: targets.map((projection) => projection.name) },
        'rebuilding projections',
      );
      await this.#catchUp(targets, onProgress ?? null, this.#rebuildBatchSize);
    } finally {
      if (wasRunning) this.start();
    }
  }

  async #pause(): Promise<void> {
    this.#stopping = true;
    this.#wakeRetry?.();
    await this.#subscription?.close();
    const loop = this.#loop;
    this.#loop = null;
    await loop;
    this.#stopping = false;
  }

  /** Checkpoints as committed, with the number of log events after each; changes nothing. */
  status(): Promise<ProjectionStatus[]> {
    return readStatuses(this.#db, this.#store, this.#projections);
  }
}
