import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../eventStore/eventStore.ts';
import { type BatchOutcome, type OpenBatch, prepareBatchCommit } from './batchCommit.ts';
import { CaughtUpSignal } from './caughtUpSignal.ts';
import {
  type CheckpointStatements,
  compareVersions,
  findCheckpointsOffLog,
  openCheckpoints,
  type ProjectionStatus,
  readStatuses,
} from './checkpointStore.ts';
import { projectedEvent } from './eventData.ts';
import { liveBatches, nextMacrotask } from './liveBatches.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { describeFailure, NewerProjectionVersionError, type RunnerFailure } from './runnerFailures.ts';
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

/**
 * Events decoded and applied at a time within a batch: few enough to die young in the
 * garbage collector's nursery, enough for the projections to fold several events into a write.
 */
const PART_SIZE = 500;

/** A fill checkpoints the write-ahead log once it holds this many pages (64 MiB of 4 KiB pages). */
const FILL_AUTO_CHECKPOINT_PAGES = 16_384;

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
  /** told whenever `health()` may have changed (a batch committed, a failure, caught up or reset) */
  readonly onHealthChanged?: () => void;
};

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
 *
 * The pieces with a seam of their own live beside it: the batch transaction
 * (`batchCommit.ts`), the checkpoints and their checks against the log (`checkpointStore.ts`),
 * the live batching (`liveBatches.ts`), the caught-up signal and the failures. What remains
 * (about 400 lines) is one state machine — lock, checkpoints, loop, subscription, retry — that
 * `start`, `rebuild`, `stop` and the loop all change; split further, that state would be
 * shared across files.
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
  readonly #onHealthChanged: () => void;
  #lock: RunnerLock | null = null;
  #statements: CheckpointStatements | null = null;
  #commitBatch: ReturnType<typeof prepareBatchCommit> | null = null;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #subscription: Subscription | null = null;
  #wakeRetry: (() => void) | null = null;
  readonly #caughtUp = new CaughtUpSignal();
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
    this.#onHealthChanged = options.onHealthChanged ?? (() => {});
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
    this.#commitBatch = prepareBatchCommit(this.#db, statements);
    return statements;
  }

  #releaseLock(): void {
    this.#lock?.release();
    this.#lock = null;
  }

  /** Commits a batch; a projection that failed is thrown after the others' work is committed. */
  #commit(events: readonly RecordedEvent[], before: bigint, projections: readonly Projection[]): void {
    this.#ownCheckpoints();
    this.#settle(this.#commitBatch!(events, before, projections, this.#expected));
  }

  /** Takes a committed batch's checkpoints as this runner's own; throws a projection's failure. */
  #settle({ advanced, failures }: BatchOutcome): void {
    for (const [name, position] of advanced) this.#expected.set(name, position);
    this.#onHealthChanged();
    if (failures.length > 0) throw failures[0];
    this.#failing = null;
  }

  /**
   * Under the lock: a projection whose stored version is older than its code (or without a
   * checkpoint) is reset to empty at position zero, so the catch-up rebuilds it; a newer
   * stored version is refused before anything is changed.
   */
  #prepare(projections: readonly Projection[]): void {
    const { newer, current, stale } = compareVersions(this.#ownCheckpoints(), projections);
    if (newer.length > 0) throw new NewerProjectionVersionError(newer);
    for (const projection of current) projection.migrate(this.#db);
    for (const { projection, stored } of stale) {
      if (stored === null) continue;
      this.#logger?.info(
        { projection: projection.name, from: stored, to: projection.version },
        'projection version changed: rebuilding from the start of the log',
      );
    }
    if (stale.length > 0) this.#resetToZero(stale.map(({ projection }) => projection));
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
    this.#caughtUp.reset();
    this.#onHealthChanged();
  }

  /** A projection whose checkpoint is not on the log is rebuilt from zero (see `findCheckpointsOffLog`). */
  async #verifyCheckpoints(projections: readonly Projection[]): Promise<void> {
    const { legacy, mismatched } = await findCheckpointsOffLog(
      this.#ownCheckpoints(),
      this.#store,
      projections,
    );
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
    return this.#caughtUp.value;
  }

  health(): RunnerHealth {
    return {
      caughtUp: this.#caughtUp.value,
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
    return this.#caughtUp.wait();
  }

  async #run(): Promise<void> {
    let delay = this.#retryDelayMs;
    while (!this.#stopping) {
      try {
        const after = await this.#catchUp(this.#projections, null);
        if (this.#stopping) break;
        this.#failing = null;
        if (!this.#caughtUp.value) {
          this.#logger?.info({ position: after.toString() }, 'projections caught up');
          this.#caughtUp.settle();
        }
        this.#onHealthChanged();
        delay = this.#retryDelayMs;
        await this.#follow(after);
      } catch (error) {
        if (this.#stopping) break;
        this.#failures += 1;
        this.#failing = { since: this.#failing?.since ?? Date.now(), ...describeFailure(error) };
        this.#logger?.error({ err: error, retryInMs: delay }, 'projection runner failed; retrying');
        this.#onHealthChanged();
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
    const after = this.#loadCheckpoints(projections);
    // Filled from empty: what is cheaper to build once at the end (indexes) is dropped first,
    const filling = projections.filter(
      (projection) => projection.bulkLoad !== undefined && this.#expected.get(projection.name) === 0n,
    );
    // and the log's write-ahead file is copied into the database less often: at the default
    // (every 1,000 pages) nearly every batch of a fill paid a checkpoint and its fsyncs. That
    // changes when the copy is made, not what a commit makes durable.
    const autoCheckpoint = this.#db.pragma('wal_autocheckpoint', { simple: true }) as number;
    if (filling.length > 0) {
      this.#db.pragma(`wal_autocheckpoint = ${FILL_AUTO_CHECKPOINT_PAGES}`);
      this.#db.transaction(() => {
        for (const projection of filling) projection.bulkLoad!.before(this.#db);
      })();
    }
    try {
      return await this.#readInto(projections, after, onProgress, batchSize);
    } finally {
      if (filling.length > 0) {
        this.#db.transaction(() => {
          for (const projection of filling) projection.bulkLoad!.after(this.#db);
        })();
        this.#db.pragma(`wal_autocheckpoint = ${autoCheckpoint}`);
      }
    }
  }

  /**
   * Reads the log from `after` to its end into `projections`, a batch at a time. A batch's
   * transaction stays open while its events arrive, a part of `PART_SIZE` at a time, each
   * decoded and applied before the next is read (see `OpenBatch`).
   */
  async #readInto(
    projections: readonly Projection[],
    from: bigint,
    onProgress: ProgressListener | null,
    batchSize: number,
  ): Promise<bigint> {
    this.#ownCheckpoints();
    const partSize = Math.min(batchSize, PART_SIZE);
    let after = from;
    let batch: OpenBatch | null = null;
    let part: ProjectedEvent[] = [];
    let applied = 0;
    const add = () => {
      if (part.length === 0) return;
      batch ??= this.#commitBatch!.open(after, projections, this.#expected);
      batch.add(part);
      after = part[part.length - 1]!.position;
      part = [];
    };
    const flush = async () => {
      add();
      if (batch === null) return;
      const committed = batch;
      batch = null;
      this.#settle(committed.commit());
      applied += committed.size;
      onProgress?.(applied, null);
      // Lets HTTP requests (readiness, queries) in between batches of a long catch-up.
      await nextMacrotask();
    };
    try {
      for await (const event of this.#store.readAll({ after })) {
        if (this.#stopping) break;
        part.push(projectedEvent(event));
        if (part.length < partSize) continue;
        add();
        if (batch!.size >= batchSize) await flush();
      }
      await flush();
    } finally {
      // The read failed (or a part could not be applied): what the batch applied is undone.
      (batch as OpenBatch | null)?.rollback();
    }
    return after;
  }

  /** Follows the log live from `after`; events that arrive together are committed together. */
  async #follow(after: bigint): Promise<void> {
    const subscription = this.#store.subscribeToAll({ after });
    this.#subscription = subscription;
    if (this.#stopping) await subscription.close();
    let before = after;
    try {
      for await (const batch of liveBatches(subscription, this.#batchSize)) {
        this.#commit(batch, before, this.#projections);
        before = batch[batch.length - 1]!.position;
      }
    } finally {
      this.#subscription = null;
      await subscription.close();
    }
  }

  /** Stops the loop after the batch in progress and releases the lock; what was committed stays. */
  async stop(): Promise<void> {
    await this.#pause();
    this.#releaseLock();
    if (!this.#caughtUp.value)
      this.#caughtUp.fail(new Error('the projection runner stopped before catching up'));
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
      for (const { name, stored, known } of compareVersions(this.#ownCheckpoints(), targets).newer) {
        this.#logger?.warn(
          { projection: name, from: stored, to: known },
          'rebuilding a projection written by a newer version for this older one',
        );
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
