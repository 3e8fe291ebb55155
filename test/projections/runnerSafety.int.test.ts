import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import type { ProjectedEvent, Projection } from '../../src/projections/projection.ts';
import {
  NewerProjectionVersionError,
  openReadModels,
  PROJECTIONS,
  READ_MODELS_FILE,
  ReadModelsLockedError,
  readProjectionStatus,
} from '../../src/projections/readModels.ts';
import { eventually } from '../support/eventually.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { flakyStore } from './flakyStore.ts';
import { historyWriter, web, writeHistory } from './history.ts';
import { capturedLogger, dumpTables } from './kit.ts';

/*
 * One file, over 350 lines: each test is one way the runner must not lose or double an event
 * (a crash, a moved checkpoint, a replaced log, a failing projection); they share the flaky
 * store and the fixtures that make those happen.
 */

const dirs = tempDirs('runner-safety');
afterAll(() => dirs.removeAll());

/** A fresh data directory and its store, closed whatever the test does. */
async function withStore(test: (dataDir: string, store: SqliteEventStore) => Promise<void>): Promise<void> {
  const dataDir = await dirs.make();
  const store = openSqliteEventStore({ dataDir });
  try {
    await test(dataDir, store);
  } finally {
    await store.close();
  }
}

async function headOf(store: EventStore): Promise<bigint> {
  let position = 0n;
  for await (const event of store.readAll()) position = event.position;
  return position;
}

/** Builds the read models of `store` from zero in a file of their own, and dumps them. */
async function fromScratch(dataDir: string, store: EventStore, projections = PROJECTIONS) {
  const fileName = `fresh-${randomUUID()}.sqlite`;
  const fresh = openReadModels({ dataDir, store, fileName, projections });
  await fresh.start();
  await fresh.caughtUp();
  await fresh.stop();
  return dumpTables(join(dataDir, fileName));
}

async function catchUpOnce(dataDir: string, store: EventStore, options: Record<string, unknown> = {}) {
  const readModels = openReadModels({ dataDir, store, ...options });
  await readModels.start();
  await readModels.caughtUp();
  await readModels.stop();
}

const EVENTS_FILE = 'events.sqlite';

describe('read models built from another log than the store now holds (H1)', () => {
  it('after the store is restored from an older backup, rebuilds and equals a from-scratch build', async () => {
    const dataDir = await dirs.make();
    const backup = join(await dirs.make(), EVENTS_FILE);
    let store = openSqliteEventStore({ dataDir });
    let writer = historyWriter(store, dataDir);
    await writeHistory(writer, 8);
    writer.close();
    await store.close();
    // The backup: the file copied while the store is closed (no WAL left beside it).
    expect(existsSync(join(dataDir, `${EVENTS_FILE}-wal`))).toBe(false);
    copyFileSync(join(dataDir, EVENTS_FILE), backup);

    store = openSqliteEventStore({ dataDir });
    writer = historyWriter(store, dataDir);
    await writeHistory(writer, 6, 'later');
    writer.close();
    const headBeforeRestore = await headOf(store);
    await catchUpOnce(dataDir, store);
    await store.close();

    // Restore: the events written after the backup are gone; the snapshots of the writer
    // too (they are not this test's concern).
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(dataDir, `${EVENTS_FILE}${suffix}`), { force: true });
    rmSync(join(dataDir, 'history-snapshots.sqlite'), { force: true });
    copyFileSync(backup, join(dataDir, EVENTS_FILE));
    store = openSqliteEventStore({ dataDir });
    try {
      const restoredHead = await headOf(store);
      expect(restoredHead).toBeLessThan(headBeforeRestore);
      // A new event after the restore: it takes a position the read models already applied.
      writer = historyWriter(store, dataDir);
      await writer.service.startEnrollment(
        'after-restore',
        { accountName: 'after-restore', proof: null },
        web('after-restore'),
      );
      writer.close();
      expect(await headOf(store)).toBeLessThanOrEqual(headBeforeRestore);

      const { logger, lines } = capturedLogger();
      await catchUpOnce(dataDir, store, { logger });
      const restored = dumpTables(join(dataDir, READ_MODELS_FILE));
      expect(restored).toEqual(await fromScratch(dataDir, store));
      const users = (restored.users as { user_id: string }[]).map((row) => row.user_id);
      expect(users).toContain('after-restore');
      expect(users.some((user) => user.startsWith('later-'))).toBe(false);
      // Said loudly, naming each projection.
      const errors = lines.filter((line) => line.level === 50);
      expect(errors.map((line) => line.projection).sort()).toEqual(PROJECTIONS.map((p) => p.name).sort());
      for (const line of errors) expect(String(line.msg)).toMatch(/checkpoint is not on the event log/);
    } finally {
      await store.close();
    }
  });

  it('after DATA_DIR is pointed at another store, rebuilds from that store', async () => {
    const dataDir = await dirs.make();
    const otherDir = await dirs.make();
    const first = openSqliteEventStore({ dataDir });
    const other = openSqliteEventStore({ dataDir: otherDir });
    try {
      const firstWriter = historyWriter(first, dataDir);
      await writeHistory(firstWriter, 6);
      firstWriter.close();
      await catchUpOnce(dataDir, first);
      const otherWriter = historyWriter(other, otherDir);
      await writeHistory(otherWriter, 9, 'elsewhere');
      otherWriter.close();
      // The other log is longer: positions alone would look fine.
      expect(await headOf(other)).toBeGreaterThan(await headOf(first));

      await catchUpOnce(dataDir, other);
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(await fromScratch(dataDir, other));
    } finally {
      await first.close();
      await other.close();
    }
  });

  it('rebuilds checkpoints written before they named their event, once', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 5);
      writer.close();
      await catchUpOnce(dataDir, store);
      const file = join(dataDir, READ_MODELS_FILE);
      const expected = dumpTables(file);
      // As an older version left them: no event id, and a row lost to show the rebuild.
      const db = new Database(file);
      db.exec(`ALTER TABLE projection_checkpoints DROP COLUMN event_id;
               ALTER TABLE projection_checkpoints DROP COLUMN previous_position;
               DELETE FROM users WHERE user_id = (SELECT MIN(user_id) FROM users);`);
      db.close();
      await catchUpOnce(dataDir, store);
      expect(dumpTables(file)).toEqual(expected);
    });
  });

  it('keeps read models whose checkpoints are on the log (a restart rebuilds nothing)', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 4);
      await catchUpOnce(dataDir, store);
      await writeHistory(writer, 2, 'more');
      writer.close();
      const { logger, lines } = capturedLogger();
      await catchUpOnce(dataDir, store, { logger });
      expect(lines.filter((line) => /rebuild/.test(String(line.msg)))).toEqual([]);
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(await fromScratch(dataDir, store));
    });
  });
});

describe('one writer at a time (H2)', () => {
  it('refuses a second runner while one runs, and takes it once the first stopped', async () => {
    await withStore(async (dataDir, store) => {
      const service = openReadModels({ dataDir, store });
      await service.start();
      await service.caughtUp();
      const second = openReadModels({ dataDir, store });
      await expect(second.start()).rejects.toThrow(ReadModelsLockedError);
      await expect(second.start()).rejects.toThrow(
        /^the service \(pid \d+ on .+\) is running: stop it first/,
      );
      const commandLine = openReadModels({ dataDir, store, role: 'rebuild from the command line' });
      await expect(commandLine.rebuild()).rejects.toThrow(ReadModelsLockedError);
      await commandLine.stop();
      await second.stop();
      await service.stop();

      const rebuilder = openReadModels({ dataDir, store, role: 'rebuild from the command line' });
      await rebuilder.rebuild();
      // …and while it rebuilds, the service is the one refused, told what holds the lock.
      const late = openReadModels({ dataDir, store });
      await expect(late.start()).rejects.toThrow(
        /a rebuild from the command line \(pid \d+ on .+\) is writing/,
      );
      await late.stop();
      await rebuilder.stop();
      const again = openReadModels({ dataDir, store });
      await again.start();
      await again.stop();
    });
  });
});

/** Test projection: one table of (position), at `version`. */
const marker = (name: string, version: number): Projection => ({
  name,
  version,
  migrate(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS "${name}" (position INTEGER PRIMARY KEY)`);
  },
  apply(db, event: ProjectedEvent) {
    db.prepare(`INSERT INTO "${name}" (position) VALUES (?)`).run(event.position);
  },
  reset(db) {
    db.exec(`DROP TABLE IF EXISTS "${name}"`);
  },
});

describe('opening and looking change nothing (H3)', () => {
  it('status, by the runner or read-only, leaves a projection of another version as it is', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 3);
      writer.close();
      await catchUpOnce(dataDir, store, { projections: [...PROJECTIONS, marker('marker', 1)] });
      const file = join(dataDir, READ_MODELS_FILE);
      const before = dumpTables(file);
      const bytes = readFileSync(file);
      expect(before.marker!.length).toBeGreaterThan(0);

      for (const version of [2, 0]) {
        const projections = [...PROJECTIONS, marker('marker', version)];
        const opened = openReadModels({ dataDir, store, projections });
        const status = await opened.status();
        await opened.stop();
        expect(status.find((s) => s.name === 'marker')).toMatchObject({ version: 1 });
        expect(await readProjectionStatus({ dataDir, store, projections })).toEqual(status);
        expect(dumpTables(file)).toEqual(before);
      }
      expect(readFileSync(file).equals(bytes)).toBe(true);
    });
  });

  it('refuses to start over a newer stored version, changing nothing, and says what to do', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 3);
      writer.close();
      await catchUpOnce(dataDir, store, { projections: [...PROJECTIONS, marker('marker', 3)] });
      const file = join(dataDir, READ_MODELS_FILE);
      const before = dumpTables(file);

      // An older build (a rolling deploy, an older command line): marker at version 2.
      const older = openReadModels({ dataDir, store, projections: [...PROJECTIONS, marker('marker', 2)] });
      const refused = older.start();
      await expect(refused).rejects.toThrow(NewerProjectionVersionError);
      await expect(refused).rejects.toThrow(
        /marker \(version 3; this build knows 2\).*newer version.*twofactor projections rebuild marker/,
      );
      await older.stop();
      expect(dumpTables(file)).toEqual(before);

      // The newer build carries on; the lock was released by the refused one.
      await catchUpOnce(dataDir, store, { projections: [...PROJECTIONS, marker('marker', 3)] });
      expect(dumpTables(file)).toEqual(before);
    });
  });

  it('a projection that keeps failing does not stall the others', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 4);
      const head = await headOf(store);
      let poisoned = 0n;
      for await (const event of store.readAll())
        if (poisoned === 0n && event.type === 'TwoFactorEnabled') poisoned = event.position;
      const failing: Projection = {
        ...marker('fragile', 1),
        apply(db, event) {
          if (event.position === poisoned) throw new Error('SECRET-LOOKING-MESSAGE');
          marker('fragile', 1).apply(db, event);
        },
      };
      const readModels = openReadModels({
        dataDir,
        store,
        projections: [...PROJECTIONS, failing],
        retryDelayMs: 10,
      });
      await readModels.start();
      // The healthy ones reach the head (following included) while the fragile one stays before its bad event.
      await writeHistory(writer, 1, 'live');
      writer.close();
      const liveHead = await headOf(store);
      expect(liveHead).toBeGreaterThan(head);
      await eventually(() => {
        const positions = readModels.health().positions.filter((p) => p.name !== 'fragile');
        return positions.every((p) => p.position === liveHead) ? true : undefined;
      }, 'the healthy projections at the head');
      const health = readModels.health();
      expect(health.positions.find((p) => p.name === 'fragile')!.position).toBeLessThan(poisoned);
      expect(health.failures).toBeGreaterThan(0);
      expect(health.failing).toMatchObject({
        since: expect.any(Number),
        storeUnavailable: false,
        reason: `projection fragile fails at position ${poisoned} (Error; see the service log)`,
      });
      expect(JSON.stringify(health.failing)).not.toContain('SECRET');
      await readModels.stop();
    });
  });
});

describe('a rebuild batch applied a part at a time', () => {
  it('commits, for a projection failing in a later part, its rows and checkpoint up to the part before, and everything for the others', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 80);
      writer.close();
      const log: bigint[] = [];
      for await (const event of store.readAll()) log.push(event.position);
      // In the second part of 500 of the rebuild's one batch of 5,000.
      expect(log.length).toBeGreaterThan(600);
      const poisoned = log[600]!;
      const failing: Projection = {
        ...marker('fragile', 1),
        apply(db, event) {
          if (event.position === poisoned) throw new Error('bad event');
          marker('fragile', 1).apply(db, event);
        },
      };
      const readModels = openReadModels({ dataDir, store, projections: [...PROJECTIONS, failing] });
      await expect(readModels.rebuild()).rejects.toThrow(
        `projection fragile: applying the event at position ${poisoned} failed`,
      );
      const positions = Object.fromEntries(readModels.health().positions.map((p) => [p.name, p.position]));
      await readModels.stop();
      // The first part stands for the fragile one, rows and checkpoint together.
      expect(positions.fragile).toBe(log[499]);
      const dump = dumpTables(join(dataDir, READ_MODELS_FILE));
      expect((dump.fragile as { position: bigint }[]).map((row) => row.position)).toEqual(log.slice(0, 500));
      const checkpoints = dump.projection_checkpoints as { name: string }[];
      expect(checkpoints.find((row) => row.name === 'fragile')).toMatchObject({
        position: String(log[499]),
        previous_position: String(log[498]),
      });
      // The others applied the whole batch, as a build from scratch does.
      for (const projection of PROJECTIONS) expect(positions[projection.name]).toBe(log.at(-1));
      const scratch = await fromScratch(dataDir, store);
      for (const table of ['users', 'audit_events', 'notifications'])
        expect(dump[table]).toEqual(scratch[table]);
    });
  });
});

describe('health (H4)', () => {
  it('is not caught up while a reset projection is rebuilt, and caught up again after', async () => {
    await withStore(async (dataDir, store) => {
      const writer = historyWriter(store, dataDir);
      await writeHistory(writer, 6);
      writer.close();
      const readModels = openReadModels({ dataDir, store, batchSize: 20 });
      await readModels.start();
      await readModels.caughtUp();
      expect(readModels.isCaughtUp()).toBe(true);
      const during: boolean[] = [];
      await readModels.rebuild('audit', () => during.push(readModels.health().caughtUp));
      expect(during.length).toBeGreaterThan(3);
      expect(new Set(during)).toEqual(new Set([false]));
      await readModels.caughtUp();
      expect(readModels.health().caughtUp).toBe(true);
      await readModels.stop();
    });
  });

  it('tells since when the runner fails, and retries at once when told the store answers again', async () => {
    const dataDir = await dirs.make();
    const inner = openSqliteEventStore({ dataDir });
    const store = flakyStore(inner);
    try {
      const writer = historyWriter(inner, dataDir);
      await writeHistory(writer, 2);
      // A back-off far longer than the test: only the wake-up can bring the runner back in time.
      const readModels = openReadModels({ dataDir, store, retryDelayMs: 120_000 });
      await readModels.start();
      await readModels.caughtUp();
      expect(readModels.health().failing).toBeNull();
      const before = Date.now();
      store.down();
      await writeHistory(writer, 1, 'while-down');
      writer.close();
      const failing = await eventually(() => readModels.health().failing ?? undefined, 'the runner to fail');
      expect(failing).toEqual({
        since: expect.any(Number),
        storeUnavailable: true,
        reason: 'the event store is unavailable',
      });
      expect(failing.since).toBeGreaterThanOrEqual(before);
      // Failing since the first failure, not the last one.
      readModels.storeAnswered(); // still down: a retry that fails again
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(readModels.health().failing?.since).toBe(failing.since);

      store.up();
      readModels.storeAnswered();
      const head = await headOf(inner);
      await eventually(
        () => (readModels.health().positions.every((p) => p.position === head) ? true : undefined),
        'the runner back at the head',
        5_000,
      );
      expect(readModels.health().failing).toBeNull();
      await readModels.stop();
    } finally {
      await inner.close();
    }
  });
});

describe('readProjectionStatus', () => {
  it('reads nothing into existence and throws when the store does not answer', async () => {
    const dataDir = await dirs.make();
    const inner = openSqliteEventStore({ dataDir });
    const store = flakyStore(inner);
    try {
      const statuses = await readProjectionStatus({ dataDir, store });
      expect(statuses.map((s) => [s.name, s.position])).toEqual(PROJECTIONS.map((p) => [p.name, '0']));
      expect(existsSync(join(dataDir, READ_MODELS_FILE))).toBe(false);
      store.down();
      await expect(readProjectionStatus({ dataDir, store })).rejects.toThrow(StoreUnavailableError);
    } finally {
      await inner.close();
    }
  });
});
