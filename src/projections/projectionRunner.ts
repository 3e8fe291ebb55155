import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent, Subscription } from '../eventStore/eventStore.ts';
import type { Projection } from './projection.ts';

export type ProjectionStatus = {
  readonly name: string;
  readonly version: number;
  /** the last position applied, decimal ("0": nothing yet) */
  readonly position: string;
  /** events in the log after `position`; null when the log could not be read */
  readonly lagEvents: number | null;
};

export type ProgressListener = (applied: number, total: number | null) => void;

export type ProjectionRunnerOptions = {
  readonly db: Database.Database;
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  readonly logger?: Logger;
  /** most events committed in one transaction; default 500 */
  readonly batchSize?: number;
  /** first wait before retrying after a failure (doubling up to 30 s); default 500 ms */
  readonly retryDelayMs?: number;
};

/** A checkpoint is not where this runner left it: another process wrote the read models. */
export class CheckpointMovedError extends Error {
  override readonly name = 'CheckpointMovedError';
  constructor(readonly projection: string) {
    super(
      `projection ${projection}: its checkpoint was moved by another process (a rebuild while the service runs?); starting over from the committed checkpoint`,
    );
  }
}

type CheckpointRow = { name: string; version: number; position: string };

const NOT_READY = Symbol('not ready');
const nextMacrotask = () =>
  new Promise<typeof NOT_READY>((resolve) => setImmediate(() => resolve(NOT_READY)));

/**
 * Folds the global log into the projections. Each projection has a checkpoint (name,
 * version, position as decimal text) written in the same SQLite transaction as the rows the
 * events produced, so after a crash it resumes exactly after the last event whose effect
 * was committed: nothing lost, nothing applied twice.
 *
 * Start: catch up by reading the log (`readAll`) from the lowest checkpoint to its end, in
 * batches of up to `batchSize` events a transaction; once that read ends, everything up to
 * the log's head as of the start is applied and `caughtUp()` resolves. Then a subscription
 * from the last applied position follows the log live; events that arrive together are
 * committed together (a batch ends when the subscription would have to wait).
 */
export class ProjectionRunner {
  readonly #db: Database.Database;
  readonly #store: EventStore;
  readonly #projections: readonly Projection[];
  readonly #logger: Logger | undefined;
  readonly #batchSize: number;
  readonly #retryDelayMs: number;
  readonly #commit: (events: readonly RecordedEvent[], projections: readonly Projection[]) => void;
  readonly #readCheckpoint: Database.Statement<[string], CheckpointRow>;
  readonly #writeCheckpoint: Database.Statement<[string, number, string]>;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #subscription: Subscription | null = null;
  #wakeRetry: (() => void) | null = null;
  #caughtUp = false;
  #caughtUpWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** each projection's checkpoint as this runner last committed or read it */
  readonly #expected = new Map<string, bigint>();

  constructor(options: ProjectionRunnerOptions) {
    this.#db = options.db;
    this.#store = options.store;
    this.#projections = options.projections;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize ?? 500;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
    const names = new Set(this.#projections.map((projection) => projection.name));
    if (names.size !== this.#projections.length) throw new Error('projection names must be unique');

    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS projection_checkpoints (
        name TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        position TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
    this.#readCheckpoint = this.#db.prepare(
      'SELECT name, version, position FROM projection_checkpoints WHERE name = ?',
    );
    this.#writeCheckpoint = this.#db.prepare(
      `INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position`,
    );

    const batch = this.#db.transaction(
      (events: readonly RecordedEvent[], projections: readonly Projection[]) => {
        const advanced: [string, bigint][] = [];
        for (const projection of projections) {
          // Read inside the transaction, under the write lock: the committed truth. If it is not
          // where this runner left it, another process (a rebuild from the command line) moved
          // it; applying on top would lose or double events, so the batch is refused and the
          // loop starts over from what is committed.
          const row = this.#readCheckpoint.get(projection.name);
          if (row === undefined || row.version !== projection.version) {
            throw new CheckpointMovedError(projection.name);
          }
          const checkpoint = BigInt(row.position);
          if (checkpoint !== this.#expected.get(projection.name))
            throw new CheckpointMovedError(projection.name);
          let last = checkpoint;
          for (const event of events) {
            // At or below the checkpoint: its effect is already committed.
            if (event.position <= last) continue;
            projection.apply(this.#db, event);
            last = event.position;
          }
          if (last !== checkpoint) {
            this.#writeCheckpoint.run(projection.name, projection.version, last.toString());
            advanced.push([projection.name, last]);
          }
        }
        return advanced;
      },
    );
    // IMMEDIATE: the write lock before the checkpoint is read.
    this.#commit = (events, projections) => {
      const advanced = batch.immediate(events, projections);
      for (const [name, position] of advanced) this.#expected.set(name, position);
    };

    this.#prepare();
  }

  get names(): readonly string[] {
    return this.#projections.map((projection) => projection.name);
  }

  /**
   * Creates what is missing; a projection whose stored version differs from its code (or
   * without a checkpoint) is reset to empty at position zero, so the catch-up rebuilds it.
   */
  #prepare(): void {
    for (const projection of this.#projections) {
      const row = this.#readCheckpoint.get(projection.name);
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
      this.#resetToZero([projection]);
    }
  }

  #resetToZero(projections: readonly Projection[]): void {
    this.#db
      .transaction(() => {
        for (const projection of projections) {
          projection.reset(this.#db);
          projection.migrate(this.#db);
          this.#writeCheckpoint.run(projection.name, projection.version, '0');
        }
      })
      .immediate();
    for (const projection of projections) this.#expected.set(projection.name, 0n);
  }

  #checkpointOf(projection: Projection): bigint {
    const row = this.#readCheckpoint.get(projection.name);
    return row === undefined ? 0n : BigInt(row.position);
  }

  /** Takes the committed checkpoints as this runner's own; returns the lowest. */
  #loadCheckpoints(projections: readonly Projection[]): bigint {
    let lowest: bigint | null = null;
    for (const projection of projections) {
      const checkpoint = this.#checkpointOf(projection);
      this.#expected.set(projection.name, checkpoint);
      if (lowest === null || checkpoint < lowest) lowest = checkpoint;
    }
    return lowest ?? 0n;
  }

  /** Starts catching up and following in the background; returns at once. */
  start(): void {
    if (this.#loop !== null) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  isCaughtUp(): boolean {
    return this.#caughtUp;
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
        if (!this.#caughtUp) {
          this.#logger?.info({ position: after.toString() }, 'projections caught up');
          this.#settleCaughtUp();
        }
        delay = this.#retryDelayMs;
        await this.#follow(after);
      } catch (error) {
        if (this.#stopping) break;
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
   * Reads the log from the lowest checkpoint of `projections` to its end, committing a batch
   * at a time; returns the position of the last event read (or the start when none).
   */
  async #catchUp(projections: readonly Projection[], onProgress: ProgressListener | null): Promise<bigint> {
    let after = this.#loadCheckpoints(projections);
    let batch: RecordedEvent[] = [];
    let applied = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      this.#commit(batch, projections);
      applied += batch.length;
      after = batch[batch.length - 1]!.position;
      batch = [];
      onProgress?.(applied, null);
      // Lets HTTP requests (readiness, queries) in between batches of a long catch-up.
      await nextMacrotask();
    };
    for await (const event of this.#store.readAll({ after })) {
      if (this.#stopping) break;
      batch.push(event);
      if (batch.length >= this.#batchSize) await flush();
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
    // Settles at the first macrotask after a batch opened: by then the subscription has
    // delivered everything it could without waiting (it answers in microtasks while it has
    // events), so a batch is "what was available together".
    let tick: Promise<typeof NOT_READY> | null = null;
    const commit = () => {
      this.#commit(batch, this.#projections);
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

  /** Stops the loop after the batch in progress; what was committed stays. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeRetry?.();
    await this.#subscription?.close();
    const loop = this.#loop;
    this.#loop = null;
    await loop;
    if (!this.#caughtUp) this.#settleCaughtUp(new Error('the projection runner stopped before catching up'));
  }

  /**
   * Empties the projection named (all when none) and applies the whole log to it again. A
   * running loop is paused for the rebuild and resumed after it.
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
      this.#resetToZero(targets);
      this.#logger?.info(
        { projections: targets.map((projection) => projection.name) },
        'rebuilding projections',
      );
      await this.#catchUp(targets, onProgress ?? null);
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

  /** Checkpoints as committed, with the number of log events after each. */
  async status(): Promise<ProjectionStatus[]> {
    const checkpoints = this.#projections.map((projection) => ({
      projection,
      row: this.#readCheckpoint.get(projection.name),
    }));
    const positions = checkpoints.map(({ row }) => (row === undefined ? 0n : BigInt(row.position)));
    let lags: number[] | null = positions.map(() => 0);
    try {
      let lowest = positions[0] ?? 0n;
      for (const position of positions) if (position < lowest) lowest = position;
      for await (const event of this.#store.readAll({ after: lowest })) {
        positions.forEach((position, index) => {
          if (event.position > position) lags![index]! += 1;
        });
      }
    } catch {
      lags = null;
    }
    return checkpoints.map(({ projection, row }, index) => ({
      name: projection.name,
      version: row?.version ?? projection.version,
      position: positions[index]!.toString(),
      lagEvents: lags === null ? null : lags[index]!,
    }));
  }
}
