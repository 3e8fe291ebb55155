import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { auditQueryPlan } from '../../src/projections/auditProjection.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { openReadModels, PROJECTIONS, READ_MODELS_FILE } from '../../src/projections/readModels.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { historyWriter, writeHistory } from './history.ts';
import { dumpTables } from './kit.ts';

/*
 * A projection filled from empty (a rebuild, a new version) drops what it builds better at
 * the end — the audit's indexes — and builds it once the fill is done.
 */

const dirs = tempDirs('bulk-load');
afterAll(() => dirs.removeAll());

const AUDIT_INDEXES = ['audit_events_by_time', 'audit_events_by_user'];

function indexesOf(dataDir: string): string[] {
  const db = new Database(join(dataDir, READ_MODELS_FILE), { readonly: true });
  try {
    return db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' ORDER BY name",
      )
      .all()
      .map((row) => row.name);
  } finally {
    db.close();
  }
}

describe('a projection filled from empty', () => {
  it('has its indexes again once filled, and the queries use them', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    // What the audit's bulk load does, seen from inside: the indexes are gone while it fills.
    const seen: string[][] = [];
    const watcher: Projection = {
      name: 'watcher',
      version: 1,
      migrate() {},
      reset() {},
      apply(db) {
        if (seen.length === 0) {
          seen.push(
            db
              .prepare<[], { name: string }>(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'",
              )
              .all()
              .map((row) => row.name),
          );
        }
      },
    };
    try {
      await writeHistory(writer, 10);
      const readModels = openReadModels({ dataDir, store, projections: [...PROJECTIONS, watcher] });
      await readModels.rebuild();
      await readModels.stop();

      expect(seen).toEqual([[]]);
      expect(indexesOf(dataDir)).toEqual(AUDIT_INDEXES);
      const db = new Database(join(dataDir, READ_MODELS_FILE), { readonly: true });
      try {
        expect(auditQueryPlan(db, { userId: 'user-0001' }).join(' ')).toContain('audit_events_by_user');
        expect(auditQueryPlan(db, { since: '2026-01-01T00:00:00Z' }).join(' ')).toContain(
          'audit_events_by_time',
        );
      } finally {
        db.close();
      }
    } finally {
      writer.close();
      await store.close();
    }
  });

  it('gets its indexes back at the next start when a fill was cut off before it built them', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    try {
      await writeHistory(writer, 5);
      const first = openReadModels({ dataDir, store });
      await first.start();
      await first.caughtUp();
      await first.stop();
      const before = dumpTables(join(dataDir, READ_MODELS_FILE));
      // What a crash in the middle of a fill leaves: rows and checkpoints, no indexes.
      const raw = new Database(join(dataDir, READ_MODELS_FILE));
      raw.exec(AUDIT_INDEXES.map((name) => `DROP INDEX ${name};`).join(''));
      raw.close();
      expect(indexesOf(dataDir)).toEqual([]);

      const second = openReadModels({ dataDir, store });
      await second.start();
      await second.caughtUp();
      await second.stop();

      expect(indexesOf(dataDir)).toEqual(AUDIT_INDEXES);
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(before);
    } finally {
      writer.close();
      await store.close();
    }
  });
});
