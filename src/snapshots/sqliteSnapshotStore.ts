import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { boundPageCache } from '../eventStore/sqlite/pageCache.ts';
import type { Snapshot, SnapshotStore } from './snapshotStore.ts';

/**
 * Snapshots kept beside the service under DATA_DIR. They are a cache of folds, so losing the
 * file costs one full read per aggregate, nothing more; NORMAL sync is enough here.
 */
export function openSqliteSnapshotStore(
  dataDir: string,
  fileName = 'snapshots.sqlite',
): SnapshotStore & {
  close(): void;
} {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, fileName));
  boundPageCache(db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The command line may write beside a running service: wait for its lock, don't fail.
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
    stream_name TEXT PRIMARY KEY,
    revision TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    state_version INTEGER NOT NULL,
    state TEXT NOT NULL
  )`);
  const select = db.prepare<
    [string],
    { revision: string; last_hash: string; state_version: number; state: string }
  >('SELECT revision, last_hash, state_version, state FROM snapshots WHERE stream_name = ?');
  const upsert = db.prepare(
    `INSERT INTO snapshots (stream_name, revision, last_hash, state_version, state) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream_name) DO UPDATE SET revision = excluded.revision, last_hash = excluded.last_hash,
       state_version = excluded.state_version, state = excluded.state`,
  );
  return {
    async load(streamName) {
      const row = select.get(streamName);
      if (!row) return null;
      return {
        streamName,
        revision: BigInt(row.revision),
        lastHash: row.last_hash,
        stateVersion: row.state_version,
        state: JSON.parse(row.state),
      } satisfies Snapshot;
    },
    async save(snapshot) {
      upsert.run(
        snapshot.streamName,
        snapshot.revision.toString(),
        snapshot.lastHash,
        snapshot.stateVersion,
        JSON.stringify(snapshot.state),
      );
    },
    close: () => db.close(),
  };
}
