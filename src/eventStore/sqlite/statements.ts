import type Database from 'better-sqlite3';
import type { EventRow, RawEventRow } from './eventRows.ts';
import { eventColumns } from './eventRows.ts';
import type { StoredEventRef } from './idempotentRetry.ts';

export type Statements = ReturnType<typeof prepareStatements>;

/** The adapter's SQL, prepared once per connection. */
export function prepareStatements(db: Database.Database) {
  // safeIntegers everywhere a position or revision comes back: beyond 2^53 a JS number would
  // silently round, and a rounded checkpoint skips or repeats events.
  return {
    lastRevision: db
      .prepare<[string], { revision: bigint | null }>(
        'SELECT MAX(revision) AS revision FROM events WHERE stream_name = ?',
      )
      .safeIntegers(true),
    findByIds: db
      .prepare<[string], StoredEventRef>(
        `SELECT id, stream_name AS streamName, revision, position
           FROM events WHERE id IN (SELECT value FROM json_each(?))`,
      )
      .safeIntegers(true),
    // Most appends hold one event: a plain lookup of the unique index.
    findById: db
      .prepare<[string], StoredEventRef>(
        'SELECT id, stream_name AS streamName, revision, position FROM events WHERE id = ?',
      )
      .safeIntegers(true),
    insert: db
      .prepare<[string, string, bigint, string, string, string, string], { position: bigint }>(
        `INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING position`,
      )
      .safeIntegers(true),
    readStreamPage: db
      .prepare<[string, bigint, number], EventRow>(
        `SELECT ${eventColumns} FROM events
          WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`,
      )
      .safeIntegers(true),
    // Rows as arrays (`fromRawRow`): catching up and rebuilding read the whole log through it.
    readAllPage: db
      .prepare<[bigint, number], RawEventRow>(
        `SELECT ${eventColumns} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
      )
      .safeIntegers(true)
      .raw(true),
    ping: db.prepare('SELECT 1'),
    // The rowid's last value: one step down the right edge of the table's B-tree.
    lastPosition: db
      .prepare<[], bigint | null>('SELECT MAX(position) FROM events')
      .pluck()
      .safeIntegers(true),
  };
}
