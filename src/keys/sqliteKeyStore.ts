import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { boundPageCache } from '../eventStore/sqlite/pageCache.ts';
import type { KeyStore, WrappedDataKey } from './keyStore.ts';

type Row = {
  user_id: string;
  data_key_id: string;
  wrapping_key_id: string;
  wrapped: string;
  created_at: string;
};

const toKey = (row: Row): WrappedDataKey => ({
  userId: row.user_id,
  dataKeyId: row.data_key_id,
  wrappingKeyId: row.wrapping_key_id,
  wrapped: row.wrapped,
  createdAt: row.created_at,
});

/** Rows read per query while listing every key, so memory stays flat however many users. */
const PAGE = 1_000;

/**
 * Data keys in `DATA_DIR/keys.sqlite`, beside the events and fsync'd like them
 * (`synchronous=FULL`): a key acknowledged is a key that survives a crash, since the event
 * sealed with it may already be in the log.
 *
 * Its own file, not a table of `events.sqlite`, because destroying a key must leave no copy
 * in any file, and SQLite keeps deleted bytes unless told otherwise: `secure_delete` zeroes
 * what a delete frees (and what an update replaces), and the rollback journal (`DELETE`
 * mode, not WAL) is removed at each commit, so no old page image outlives its transaction.
 * The event store keeps WAL for its speed; this file is written once per user and per
 * rotation, where that speed does not matter.
 */
export function openSqliteKeyStore(dataDir: string, fileName = 'keys.sqlite'): KeyStore {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, fileName));
  // The command line (rotation) may write beside a running service: wait for its lock.
  db.pragma('busy_timeout = 5000');
  boundPageCache(db);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = FULL');
  db.pragma('secure_delete = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS data_keys (
    user_id TEXT PRIMARY KEY,
    data_key_id TEXT NOT NULL UNIQUE,
    wrapping_key_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`);
  const select = db.prepare<[string], Row>('SELECT * FROM data_keys WHERE user_id = ?');
  const insert = db.prepare(
    `INSERT INTO data_keys (user_id, data_key_id, wrapping_key_id, wrapped, created_at)
     VALUES (@userId, @dataKeyId, @wrappingKeyId, @wrapped, @createdAt) ON CONFLICT (user_id) DO NOTHING`,
  );
  const update = db.prepare(
    `UPDATE data_keys SET wrapping_key_id = ?, wrapped = ?
     WHERE user_id = ? AND data_key_id = ? AND wrapping_key_id = ?`,
  );
  const remove = db.prepare('DELETE FROM data_keys WHERE user_id = ?');
  const page = db.prepare<[string, number], Row>(
    'SELECT * FROM data_keys WHERE user_id > ? ORDER BY user_id LIMIT ?',
  );
  const createIfAbsent = db.transaction((key: WrappedDataKey) => {
    insert.run(key);
    return toKey(select.get(key.userId) as Row);
  });
  return {
    async get(userId) {
      const row = select.get(userId);
      return row ? toKey(row) : null;
    },
    create: async (key) => createIfAbsent(key),
    async rewrap(userId, dataKeyId, expectedWrappingKeyId, next) {
      return (
        update.run(next.wrappingKeyId, next.wrapped, userId, dataKeyId, expectedWrappingKeyId).changes === 1
      );
    },
    async destroy(userId) {
      return remove.run(userId).changes === 1;
    },
    async *all() {
      let after = '';
      for (;;) {
        const rows = page.all(after, PAGE);
        for (const row of rows) yield toKey(row);
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.user_id;
      }
    },
    async close() {
      db.close();
    },
  };
}
