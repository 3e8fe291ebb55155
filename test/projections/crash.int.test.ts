import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModels, READ_MODELS_FILE } from '../../src/projections/readModels.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { historyWriter, writeHistory } from './history.ts';
import { dumpTables, spawnFixture, withTimeout } from './kit.ts';

const dirs = tempDirs('read-models-crash');
afterAll(() => dirs.removeAll());

/** Runs the projector in a child process and SIGKILLs it once it reports `killAt` applied events. */
async function projectThenKill(dataDir: string, killAt: number): Promise<void> {
  const child = spawnFixture('projectUntilKilled.ts', [dataDir]);
  let finished = false;
  const reading = (async () => {
    for await (const line of child.lines) {
      if (line === 'caught-up') finished = true;
      else if (Number(line) >= killAt) child.process.kill('SIGKILL');
    }
  })();
  await withTimeout(reading, 50_000, () => `the projector to reach ${killAt} (stderr: ${child.stderr()})`);
  const exit = await child.exited;
  // A projector that finished or failed on its own would not have tested a crash.
  expect(finished, child.stderr()).toBe(false);
  expect(exit, child.stderr()).toEqual({ code: null, signal: 'SIGKILL' });
}

describe('read models after the projecting process is killed mid-batch', () => {
  it('lose and double nothing: every event once in the audit, notifications and users as a rebuild gives', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    try {
      await writeHistory(writer, 260);
      const log: bigint[] = [];
      for await (const event of store.readAll()) log.push(event.position);
      expect(log.length).toBeGreaterThan(3000);

      const file = join(dataDir, READ_MODELS_FILE);
      await projectThenKill(dataDir, 500);
      const afterFirst = dumpTables(file, ['audit_events']).audit_events!.length;
      expect(afterFirst).toBeGreaterThan(0);
      expect(afterFirst).toBeLessThan(log.length);
      await projectThenKill(dataDir, 1200); // the second run starts from the checkpoints the first left
      const afterSecond = dumpTables(file, ['audit_events']).audit_events!.length;
      expect(afterSecond).toBeGreaterThan(afterFirst);
      expect(afterSecond).toBeLessThan(log.length);

      const resumed = openReadModels({ dataDir, store });
      await resumed.start();
      await withTimeout(resumed.caughtUp(), 30_000, () => 'catch-up after the crashes');
      await resumed.stop();
      const crashed = dumpTables(file);

      const audit = crashed.audit_events as { position: bigint }[];
      expect(audit.length).toBe(log.length);
      expect(new Set(audit.map((row) => row.position)).size).toBe(log.length);
      expect(audit.map((row) => row.position)).toEqual(log);

      const fresh = openReadModels({ dataDir, store, fileName: 'fresh.sqlite' } as never);
      await fresh.start();
      await withTimeout(fresh.caughtUp(), 30_000, () => 'the from-scratch build');
      await fresh.stop();
      expect(crashed).toEqual(dumpTables(join(dataDir, 'fresh.sqlite')));
    } finally {
      writer.close();
      await store.close();
    }
  });
});
