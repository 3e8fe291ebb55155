import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModels, READ_MODELS_FILE, ReadModelsLockedError } from '../../src/projections/readModels.ts';
import { openReadModelsThread } from '../../src/projections/readModelsThread.ts';
import { eventually } from '../support/eventually.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { historyWriter, web, writeHistory } from './history.ts';
import { capturedLogger, dumpTables } from './kit.ts';

/*
 * The read models as the service runs them: the projections in a thread of their own, the
 * queries, health and readiness on the calling thread.
 */

const dirs = tempDirs('read-models-thread');
afterAll(() => dirs.removeAll());

async function headOf(store: EventStore): Promise<bigint> {
  let position = 0n;
  for await (const event of store.readAll()) position = event.position;
  return position;
}

describe('read models with their projections in a thread', () => {
  it('follow what is appended, answer queries here, and report health and caught-up from the thread', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    const { logger, lines } = capturedLogger();
    const readModels = openReadModelsThread({
      dataDir,
      store,
      location: { kind: 'sqlite', dataDir },
      keys: writer.keys,
      logger,
    });
    try {
      await writeHistory(writer, 5);
      expect(readModels.isCaughtUp()).toBe(false);
      await readModels.start();
      await readModels.caughtUp();
      expect(readModels.isCaughtUp()).toBe(true);
      expect(
        lines.some((line) => line.msg === 'projections caught up' && line.thread === 'projections'),
      ).toBe(true);

      // Live: a new user shows up in the list and in the audit, its personal fields opened here.
      await writer.service.startEnrollment('late', { accountName: 'late', proof: null }, web('late', 7));
      const head = await headOf(store);
      await eventually(
        () => (readModels.health().positions.every(({ position }) => position === head) ? true : undefined),
        'every projection at the head',
      );
      expect(readModels.listUsers({ nowMs: writer.clock.now() }).users.map((u) => u.userId)).toContain(
        'late',
      );
      const records = [];
      for await (const record of readModels.auditEvents({ userId: 'late' })) records.push(record);
      expect(records).toMatchObject([{ type: 'EnrollmentStarted', endUserAgent: 'agent/7' }]);
      expect((await readModels.status()).every((status) => status.lagEvents === 0)).toBe(true);
      expect(readModels.health()).toMatchObject({ caughtUp: true, failing: null });
    } finally {
      await readModels.stop();
      writer.close();
      await store.close();
    }
    // What the thread built is what a runner on this thread builds from the same log.
    const again = openSqliteEventStore({ dataDir });
    try {
      const fresh = openReadModels({ dataDir, store: again, fileName: 'fresh.sqlite' });
      await fresh.start();
      await fresh.caughtUp();
      await fresh.stop();
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(dumpTables(join(dataDir, 'fresh.sqlite')));
    } finally {
      await again.close();
    }
  });

  it('refuse to start while another runner holds the lock, naming it, and release theirs when stopped', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const location = { kind: 'sqlite', dataDir } as const;
    const first = openReadModelsThread({ dataDir, store, location });
    const second = openReadModelsThread({ dataDir, store, location });
    try {
      await first.start();
      const refused = await second.start().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ReadModelsLockedError);
      expect((refused as Error).message).toMatch(
        new RegExp(`^the service \\(pid ${process.pid} on .+\\) is running: stop it first`),
      );
      await first.stop();
      const commandLine = openReadModels({ dataDir, store, role: 'rebuild from the command line' });
      await commandLine.rebuild();
      await commandLine.stop();
    } finally {
      await second.stop();
      await first.stop();
      await store.close();
    }
  });

  it('show a thread that stopped unasked as failing, start another, and lose nothing meanwhile', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    const threads: Worker[] = [];
    const readModels = openReadModelsThread({
      dataDir,
      store,
      location: { kind: 'sqlite', dataDir },
      retryDelayMs: 50,
      onThreadStarted: (worker) => threads.push(worker),
    });
    try {
      await readModels.start();
      await readModels.caughtUp();
      const died = new Promise((resolve) => threads[0]!.once('exit', resolve));
      // The thread stops at a message it does not understand, as on any error of its own.
      threads[0]!.postMessage({ type: 'not-a-message' });
      await died;
      expect(readModels.health().failing?.reason).toMatch(/projection thread stopped/);
      expect(readModels.health().failures).toBe(1);
      await writeHistory(writer, 3, 'meanwhile');

      const head = await headOf(store);
      await eventually(
        () =>
          readModels.health().failing === null &&
          readModels.health().positions.every(({ position }) => position === head)
            ? true
            : undefined,
        'a new thread caught up with the head',
      );
      expect(threads).toHaveLength(2);
      expect(readModels.listUsers({ nowMs: writer.clock.now(), limit: 500 }).users.length).toBeGreaterThan(0);
    } finally {
      await readModels.stop();
      writer.close();
      await store.close();
    }
  });
});
