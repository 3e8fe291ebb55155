import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import {
  openSqliteEventStore,
  type SqliteEventStore,
  type SqliteEventStoreOptions,
} from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import type { tempDirs } from '../support/tempDirs.ts';

/**
 * Stores, and plain connections to their files, that a SQLite test opens; all are closed
 * after each test. Call it inside a describe.
 */
export function sqliteStoresClosedAfterEach(dirs: ReturnType<typeof tempDirs>) {
  const opened: SqliteEventStore[] = [];
  /** Also for connections a test opens itself. */
  const rawConnections: Database.Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    for (const db of rawConnections.splice(0)) db.close();
  });

  async function openStore(options: Partial<SqliteEventStoreOptions> = {}): Promise<SqliteEventStore> {
    const store = openSqliteEventStore({ dataDir: options.dataDir ?? (await dirs.make()), ...options });
    opened.push(store);
    return store;
  }

  /** A second, plain connection to the store's file: what another tool or process would see. */
  function rawConnection(store: SqliteEventStore): Database.Database {
    const db = new Database(store.filePath);
    db.pragma('busy_timeout = 5000');
    rawConnections.push(db);
    return db;
  }

  return { openStore, rawConnection, rawConnections };
}
