import Database from 'better-sqlite3';
import { EventIdConflictError } from '../eventIdConflictError.ts';
import { type AppendResult, ConcurrencyConflictError } from '../eventStore.ts';
import { expectedRevisionMatches, type StreamState } from './expectedRevision.ts';
import { checkForRetry } from './idempotentRetry.ts';
import { boundPageCache } from './pageCache.ts';
import type { PreparedAppend } from './preparedAppend.ts';
import { prepareStatements, type Statements } from './statements.ts';
import { type BatchReply, type SerializedOutcome, serializeAppendError } from './writerMessages.ts';

/** Errors that concern one append only; anything else aborts the whole batch. */
function isAppendOwnError(error: unknown): boolean {
  return (
    error instanceof ConcurrencyConflictError ||
    error instanceof EventIdConflictError ||
    // A constraint failure aborts only its statement; the savepoint undoes the rest of that append.
    (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT'))
  );
}

export type SqliteWriter = {
  /** commits a batch of appends in one transaction; every append is answered on its own */
  commit(items: readonly PreparedAppend[]): BatchReply;
  close(): void;
};

/**
 * The one connection that writes the event log, and the transaction of a batch. It runs in
 * the store's writer thread (`sqliteWriterWorker.ts`), so that the commit's fsync never holds
 * up the thread that answers requests. The file is already migrated by the store that opened it.
 */
export function openSqliteWriter(filePath: string, busyTimeoutMs: number): SqliteWriter {
  const db = new Database(filePath, { fileMustExist: true });
  let statements: Statements;
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    boundPageCache(db);
    // Per connection: FULL, because in WAL mode NORMAL may lose the last commits on power loss,
    // and an append is acknowledged as durable.
    db.pragma('synchronous = FULL');
    statements = prepareStatements(db);
  } catch (error) {
    db.close();
    throw error;
  }

  /** Head changes of the batch being committed: a stream's last revision, or null when unknown. */
  let heads: [string, bigint | null][] = [];

  const appendOne = (append: PreparedAppend, recordedAt: string): AppendResult => {
    const { streamName, expectedRevision, events } = append;
    const last = statements.lastRevision.get(streamName)?.revision ?? null;
    const current: StreamState = last === null ? 'no-stream' : last;

    // Before the revision check: a retry arrives with the revision the stream had before the
    // original append, which is stale by now, and must still be acknowledged.
    const stored =
      events.length === 1
        ? statements.findById.all(events[0]!.id)
        : statements.findByIds.all(JSON.stringify(events.map((event) => event.id)));
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
      heads.push([streamName, null]);
      return retry.result;
    }

    if (!expectedRevisionMatches(expectedRevision, current)) {
      throw new ConcurrencyConflictError(streamName, expectedRevision, current);
    }
    let revision = current === 'no-stream' ? 0n : current + 1n;
    let position = 0n;
    for (const event of events) {
      const row = statements.insert.get(
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
    heads.push([streamName, revision - 1n]);
    return { nextExpectedRevision: revision - 1n, position };
  };

  // Nested better-sqlite3 transactions are SAVEPOINTs: a failing append is rolled back alone
  // while the batch around it goes on and commits.
  const appendInSavepoint = db.transaction(appendOne);
  const batch = db.transaction((items: readonly PreparedAppend[]) => {
    const recordedAt = new Date().toISOString();
    const lastBefore = statements.lastPosition.get() ?? 0n;
    const outcomes = items.map((item): SerializedOutcome => {
      try {
        return { ok: true, value: appendInSavepoint(item, recordedAt) };
      } catch (error) {
        if (isAppendOwnError(error)) return { ok: false, error: serializeAppendError(error) };
        throw error;
      }
    });
    return { outcomes, lastBefore, lastAfter: statements.lastPosition.get() ?? 0n };
  });

  return {
    commit(items) {
      heads = [];
      try {
        // IMMEDIATE takes the write lock before the first read, so the revision checks see every
        // commit, including another process's, and nothing can slip in before our inserts.
        const committed = batch.immediate(items);
        return { kind: 'committed', ...committed, heads };
      } catch (cause) {
        // Rolled back as a whole: nothing of this batch is stored, so a retry by event id is safe.
        return {
          kind: 'rolled-back',
          reason: `append batch of ${items.length} rolled back: ${cause instanceof Error ? cause.message : String(cause)}`,
        };
      } finally {
        heads = [];
      }
    },
    close() {
      db.close();
    },
  };
}
