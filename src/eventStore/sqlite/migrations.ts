import type { Database } from 'better-sqlite3';

export type Migration = {
  /** 1, 2, 3… in order; stored in `PRAGMA user_version` once applied */
  readonly version: number;
  readonly description: string;
  readonly sql: string;
};

/**
 * Append-only: a released migration is never edited, a change is a new entry. The schema is
 * the event log's durable format, so it only ever grows.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'the event log',
    // UNIQUE(stream_name, revision) makes the database itself the arbiter of optimistic
    // concurrency, whoever writes (another process, a tool). AUTOINCREMENT keeps positions
    // from ever being reused, so a checkpoint stays meaningful forever. STRICT refuses values
    // of the wrong type instead of silently converting them.
    sql: `
      CREATE TABLE events (
        position    INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT    NOT NULL UNIQUE,
        stream_name TEXT    NOT NULL,
        revision    INTEGER NOT NULL CHECK (revision >= 0),
        type        TEXT    NOT NULL,
        data        TEXT    NOT NULL CHECK (json_valid(data)),
        metadata    TEXT    NOT NULL CHECK (json_valid(metadata)),
        recorded_at TEXT    NOT NULL,
        UNIQUE (stream_name, revision)
      ) STRICT;
    `,
  },
];

export type MigrationReport = { readonly from: number; readonly to: number };

/**
 * Brings the database to the latest version. Runs under an IMMEDIATE transaction so two
 * processes opening a fresh file at once cannot both apply the same migration: the second
 * waits for the write lock, then finds the work done.
 */
export function migrate(db: Database, list: readonly Migration[] = migrations): MigrationReport {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migrations must be numbered 1, 2, 3…; found ${migration.version} at index ${index}`);
    }
  });
  const latest = list.length;
  const run = db.transaction((): MigrationReport => {
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from > latest) {
      throw new Error(
        `event store schema version ${from} is newer than this build knows (${latest}); refusing to open it`,
      );
    }
    for (const migration of list.slice(from)) {
      db.exec(migration.sql);
      // PRAGMA does not take bound parameters; the value is an integer from the list above.
      db.pragma(`user_version = ${migration.version}`);
    }
    return { from, to: latest };
  });
  return run.immediate();
}
