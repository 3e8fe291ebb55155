import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, migrations } from '../../src/eventStore/sqlite/migrations.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { collect, newEvent, uniqueStream } from './eventStoreTestKit.ts';
import { sqliteStoresClosedAfterEach } from './sqliteStores.ts';

/* The SQLite event store's schema migrations: applied once, in order, and never downgraded. */

const dirs = tempDirs('sqlite-event-store');
afterAll(() => dirs.removeAll());

describe('SQLite event store', () => {
  const { openStore, rawConnection, rawConnections } = sqliteStoresClosedAfterEach(dirs);

  describe('migrations', () => {
    it('reopening applies nothing again and keeps the log', async () => {
      const dataDir = await dirs.make();
      const first = openSqliteEventStore({ dataDir });
      const stream = uniqueStream('reopen');
      await first.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
      await first.close();

      const reopened = await openStore({ dataDir });
      await reopened.appendToStream(stream, [newEvent()], { expectedRevision: 0n });

      expect(await collect(reopened.readStream(stream))).toHaveLength(2);
      const raw = rawConnection(reopened);
      expect(raw.pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(migrate(raw)).toEqual({ from: migrations.length, to: migrations.length });
    });

    it('applies only the migrations not yet applied, in order', () => {
      const db = new Database(':memory:');
      rawConnections.push(db);
      const one = { version: 1, description: 'one', sql: 'CREATE TABLE one (x INTEGER)' };
      const two = { version: 2, description: 'two', sql: 'CREATE TABLE two (x INTEGER)' };

      expect(migrate(db, [one])).toEqual({ from: 0, to: 1 });
      // Re-running `one` would fail with "table one already exists".
      expect(migrate(db, [one, two])).toEqual({ from: 1, to: 2 });
      expect(
        db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all(),
      ).toEqual(['one', 'two']);
      expect(() => migrate(db, [two])).toThrow(/numbered/);
    });

    it('refuses to open a database written by a newer schema', async () => {
      const dataDir = await dirs.make();
      const db = new Database(join(dataDir, 'events.sqlite'));
      db.pragma('user_version = 99');
      db.close();

      expect(() => openSqliteEventStore({ dataDir })).toThrow(/newer/);
    });
  });
});
