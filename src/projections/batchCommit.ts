import type Database from 'better-sqlite3';
import type { RecordedEvent } from '../eventStore/eventStore.ts';
import type { CheckpointStatements } from './checkpointStore.ts';
import { projectedEvent } from './eventData.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { CheckpointMovedError, EventFailedError, ProjectionFailedError } from './runnerFailures.ts';

export type BatchOutcome = {
  /** each projection that applied an event, with its new checkpoint */
  readonly advanced: readonly (readonly [string, bigint])[];
  /** projections that failed on an event: their part of the batch was rolled back */
  readonly failures: readonly ProjectionFailedError[];
};

/**
 * Commits a run of consecutive log events (the first right after `before`) into the
 * projections and their checkpoints: one transaction, one fsync. `expected` is each
 * checkpoint as the caller last committed or read it.
 */
export type BatchCommit = (
  events: readonly RecordedEvent[],
  before: bigint,
  projections: readonly Projection[],
  expected: ReadonlyMap<string, bigint>,
) => BatchOutcome;

/**
 * A batch's transaction held open while its events arrive a part at a time (a long
 * catch-up or a rebuild): each part is decoded, applied and let go before the next is read,
 * so a batch of thousands of events never lives in memory at once — kept, they outlived the
 * young generation and cost a third of a rebuild's time in garbage collection.
 */
export type OpenBatch = {
  /** applies the next consecutive events of the log (decoded: `projectedEvent`) inside the batch's transaction */
  add(events: readonly ProjectedEvent[]): void;
  /** events added so far */
  readonly size: number;
  /** writes the checkpoints and commits; a projection that failed kept what came before its failure */
  commit(): BatchOutcome;
  /** undoes everything the batch applied (a read of the log failed) */
  rollback(): void;
};

type Progress = {
  readonly projection: Projection;
  /** the position its rows reach in this batch (its checkpoint before the batch, at first) */
  applied: bigint;
  /** the event's id and the position before it in the log, for the checkpoint; null: nothing applied yet */
  last: { readonly id: string; readonly previous: bigint } | null;
  failure: ProjectionFailedError | null;
};

export function prepareBatchCommit(
  db: Database.Database,
  statements: CheckpointStatements,
): BatchCommit & { open: typeof open } {
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commitStatement = db.prepare('COMMIT');
  const rollbackStatement = db.prepare('ROLLBACK');

  // One savepoint per projection and part inside the batch's transaction: a projection that
  // fails on an event loses only its own part; the others commit theirs.
  const applyTo = db.transaction((projection: Projection, events: readonly ProjectedEvent[]) => {
    if (projection.applyBatch) {
      try {
        projection.applyBatch(db, events);
      } catch (error) {
        const [position, cause] =
          error instanceof EventFailedError ? [error.position, error.cause] : [events[0]!.position, error];
        throw new ProjectionFailedError(projection.name, position, { cause });
      }
    } else {
      for (const event of events) {
        try {
          projection.apply(db, event);
        } catch (cause) {
          throw new ProjectionFailedError(projection.name, event.position, { cause });
        }
      }
    }
  });

  /**
   * Takes the write lock (IMMEDIATE: before the checkpoints are read) and checks each
   * checkpoint where the runner left it: the committed truth, read under the lock. If one is
   * not, something else moved it; applying on top would lose or double events, so the batch
   * is refused and the runner starts over from what is committed.
   */
  function open(
    before: bigint,
    projections: readonly Projection[],
    expected: ReadonlyMap<string, bigint>,
  ): OpenBatch {
    begin.run();
    const progress: Progress[] = [];
    try {
      for (const projection of projections) {
        const row = statements.read.get(projection.name);
        if (row === undefined || row.version !== projection.version) {
          throw new CheckpointMovedError(projection.name);
        }
        const checkpoint = BigInt(row.position);
        if (checkpoint !== expected.get(projection.name)) throw new CheckpointMovedError(projection.name);
        progress.push({ projection, applied: checkpoint, last: null, failure: null });
      }
    } catch (error) {
      if (db.inTransaction) rollbackStatement.run();
      throw error;
    }
    let size = 0;
    // The events are read in one run of the log, the first right after `before`: the one
    // before each is its predecessor in the log.
    let previous = before;
    let done = false;
    const finish = (statement: Database.Statement) => {
      if (done) return;
      done = true;
      if (db.inTransaction) statement.run();
    };
    return {
      get size() {
        return size;
      },
      add(events) {
        if (events.length === 0) return;
        const first = events[0]!.position;
        for (const state of progress) {
          if (state.failure !== null) continue;
          // At or below the checkpoint: its effect is already committed.
          const fresh =
            first > state.applied ? events : events.filter((event) => event.position > state.applied);
          const last = fresh[fresh.length - 1];
          if (last === undefined) continue;
          try {
            applyTo(state.projection, fresh);
          } catch (error) {
            // SQLite itself gave up the transaction (disk full, I/O): nothing can commit.
            if (!(error instanceof ProjectionFailedError) || !db.inTransaction) {
              finish(rollbackStatement);
              throw error;
            }
            state.failure = error;
            continue;
          }
          const index = events.lastIndexOf(last);
          state.applied = last.position;
          state.last = { id: last.id, previous: index > 0 ? events[index - 1]!.position : previous };
        }
        previous = events[events.length - 1]!.position;
        size += events.length;
      },
      commit() {
        const advanced: [string, bigint][] = [];
        try {
          for (const { projection, applied, last } of progress) {
            if (last === null) continue;
            statements.write.run(
              projection.name,
              projection.version,
              applied.toString(),
              last.id,
              last.previous.toString(),
            );
            advanced.push([projection.name, applied]);
          }
        } catch (error) {
          finish(rollbackStatement);
          throw error;
        }
        finish(commitStatement);
        const failures = progress.flatMap(({ failure }) => (failure === null ? [] : [failure]));
        return { advanced, failures };
      },
      rollback() {
        finish(rollbackStatement);
      },
    };
  }

  // Each event decoded (upcast, typed) once for all the projections, before the write lock is taken.
  const commit: BatchCommit = (events, before, projections, expected) => {
    const decoded = events.map(projectedEvent);
    const batch = open(before, projections, expected);
    batch.add(decoded);
    return batch.commit();
  };
  return Object.assign(commit, { open });
}
