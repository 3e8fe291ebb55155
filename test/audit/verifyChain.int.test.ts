import { randomUUID } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnreadableEventError, verifyChain } from '../../src/audit/verifyChain.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { overwriteByteIn } from '../support/fileBytes.ts';
import { openRuntime, recordHistory } from '../support/recordedHistory.ts';
import { tempDirs } from '../support/tempDirs.ts';

const dirs = tempDirs('verify-chain');
afterAll(() => dirs.removeAll());

const REASON = 'lost phone on the ferry';
/** The administrator's id: kept readable (a reset's reason is sealed), it occurs once in the file. */
const ADMIN_ID = 'root-on-the-ferry';
let template: string;

beforeAll(async () => {
  template = await dirs.make();
  await recordHistory(template);
  // A value that occurs exactly once in the file, to edit byte by byte.
  const runtime = await openRuntime(template);
  const id = randomUUID();
  await runtime.service.reset('ada', REASON, {
    correlationId: id,
    causationId: id,
    actor: { role: 'cli', id: ADMIN_ID },
  });
  await runtime.close();
});

/** A private copy of the recorded history (its store closed, as a stopped service leaves it). */
async function copyOfHistory(): Promise<string> {
  const dir = await dirs.make();
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** The SQLite file as another tool sees it: no event store code in between. */
function withRawDatabase<T>(dataDir: string, use: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'events.sqlite'));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

type Row = { stream_name: string; revision: number; position: number };

const rowOf = (db: Database.Database, where: string, ...params: unknown[]) =>
  db
    .prepare<unknown[], Row>(`SELECT stream_name, revision, position FROM events WHERE ${where}`)
    .get(...params)!;

async function verify(dataDir: string) {
  const store = openSqliteEventStore({ dataDir });
  try {
    return await verifyChain(store);
  } finally {
    await store.close();
  }
}

describe('verifyChain over the embedded store', () => {
  it('verifies the history the service wrote', async () => {
    const dataDir = await copyOfHistory();
    const { events, streams } = withRawDatabase(
      dataDir,
      (db) =>
        db
          .prepare<[], { events: number; streams: number }>(
            'SELECT COUNT(*) AS events, COUNT(DISTINCT stream_name) AS streams FROM events',
          )
          .get()!,
    );
    expect(events).toBeGreaterThan(10);
    await expect(verify(dataDir)).resolves.toEqual({ ok: true, checked: events, streams });
  });

  it('names the stream and revision of an event whose data was changed in the database', async () => {
    const dataDir = await copyOfHistory();
    const target = withRawDatabase(dataDir, (db) => {
      const row = rowOf(
        db,
        "stream_name = 'two-factor-bob' AND type = 'VerificationFailed' ORDER BY revision LIMIT 1",
      );
      // What someone hiding failed attempts would do: make the count look harmless.
      db.prepare(
        "UPDATE events SET data = json_set(data, '$.consecutiveFailures', 0) WHERE stream_name = ? AND revision = ?",
      ).run(row.stream_name, row.revision);
      return row;
    });
    const verdict = await verify(dataDir);
    expect(verdict).toMatchObject({
      ok: false,
      brokenAt: {
        streamName: 'two-factor-bob',
        revision: BigInt(target.revision),
        position: BigInt(target.position),
        reason: expect.stringMatching(/hash mismatch/),
      },
    });
  });

  it('names the event when one byte of the file itself was flipped while the store was closed', async () => {
    const dataDir = await copyOfHistory();
    const target = withRawDatabase(dataDir, (db) => rowOf(db, "type = 'AdminReset'"));
    // 'root' becomes 'Root': still valid JSON, still the same length; only the hash can tell.
    const needle = `"id":"${ADMIN_ID}"`;
    expect(overwriteByteIn(join(dataDir, 'events.sqlite'), needle, '"id":"'.length, 'R')).toBeGreaterThan(0);

    const verdict = await verify(dataDir);
    expect(verdict).toMatchObject({
      ok: false,
      brokenAt: {
        streamName: 'two-factor-ada',
        revision: BigInt(target.revision),
        position: BigInt(target.position),
        reason: expect.stringMatching(/hash mismatch/),
      },
    });
  });

  it('reports an event edited into something that is not JSON, without quoting it', async () => {
    const dataDir = await copyOfHistory();
    const before = withRawDatabase(dataDir, (db) => rowOf(db, "type = 'AdminReset'"));
    const needle = `"id":"${ADMIN_ID}"`;
    expect(overwriteByteIn(join(dataDir, 'events.sqlite'), needle, '"id":'.length, "'")).toBeGreaterThan(0);

    const failure = await verify(dataDir).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnreadableEventError);
    // The last event read intact is the one just before the edited one.
    expect((failure as UnreadableEventError).afterPosition).toBeLessThan(BigInt(before.position));
    expect((failure as Error).message).not.toContain(ADMIN_ID.slice(1));
  });

  it('names the event after the gap when an event was deleted from the middle of a stream', async () => {
    const dataDir = await copyOfHistory();
    const next = withRawDatabase(dataDir, (db) => {
      const row = rowOf(
        db,
        "stream_name = 'two-factor-bob' AND type = 'VerificationFailed' ORDER BY revision LIMIT 1",
      );
      db.prepare('DELETE FROM events WHERE stream_name = ? AND revision = ?').run(
        row.stream_name,
        row.revision,
      );
      return rowOf(db, 'stream_name = ? AND revision = ?', row.stream_name, row.revision + 1);
    });
    const verdict = await verify(dataDir);
    expect(verdict).toMatchObject({
      ok: false,
      brokenAt: {
        streamName: 'two-factor-bob',
        revision: BigInt(next.revision),
        position: BigInt(next.position),
        reason: expect.stringMatching(/missing/),
      },
    });
  });
});
