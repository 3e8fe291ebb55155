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

export function prepareBatchCommit(db: Database.Database, statements: CheckpointStatements): BatchCommit {
  // One savepoint per projection inside the batch's transaction: a projection that fails
  // on an event loses only its own part of the batch; the others commit theirs.
  const applyTo = db.transaction(
    (
      projection: Projection,
      events: readonly ProjectedEvent[],
      before: bigint,
      expected: bigint | undefined,
    ) => {
      // Read inside the transaction, under the write lock: the committed truth. If it is not
      // where the runner left it, something else moved it; applying on top would lose or
      // double events, so the batch is refused and the runner starts over from what is committed.
      const row = statements.read.get(projection.name);
      if (row === undefined || row.version !== projection.version) {
        throw new CheckpointMovedError(projection.name);
      }
      const checkpoint = BigInt(row.position);
      if (checkpoint !== expected) throw new CheckpointMovedError(projection.name);
      // At or below the checkpoint: its effect is already committed.
      const fresh =
        events[0] !== undefined && events[0].position > checkpoint
          ? events
          : events.filter((event) => event.position > checkpoint);
      const last = fresh[fresh.length - 1];
      if (last === undefined) return null;
      if (projection.applyBatch) {
        try {
          projection.applyBatch(db, fresh);
        } catch (error) {
          const [position, cause] =
            error instanceof EventFailedError ? [error.position, error.cause] : [fresh[0]!.position, error];
          throw new ProjectionFailedError(projection.name, position, { cause });
        }
      } else {
        for (const event of fresh) {
          try {
            projection.apply(db, event);
          } catch (cause) {
            throw new ProjectionFailedError(projection.name, event.position, { cause });
          }
        }
      }
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
  const batch = db.transaction(
    (
      events: readonly ProjectedEvent[],
      before: bigint,
      projections: readonly Projection[],
      expected: ReadonlyMap<string, bigint>,
    ): BatchOutcome => {
      const advanced: [string, bigint][] = [];
      const failures: ProjectionFailedError[] = [];
      for (const projection of projections) {
        try {
          const position = applyTo(projection, events, before, expected.get(projection.name));
          if (position !== null) advanced.push([projection.name, position]);
        } catch (error) {
          // SQLite itself gave up the transaction (disk full, I/O): nothing can commit.
          if (!(error instanceof ProjectionFailedError) || !db.inTransaction) throw error;
          failures.push(error);
        }
      }
      return { advanced, failures };
    },
  );
  // Each event decoded (upcast, typed) once for all the projections, before the write lock
  // is taken; IMMEDIATE: the write lock before the checkpoints are read.
  return (events, before, projections, expected) =>
    batch.immediate(events.map(projectedEvent), before, projections, expected);
}
