import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { READ_MODELS_FILE } from '../../src/projections/readModels.ts';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';
import { dumpTables, spawnFixture, withTimeout } from './kit.ts';

const { dirs, stoppedService: dataDirOfStoppedService } = recordedDataDirs('projections-cli');

/** The service's read models running in another process, holding their lock until killed. */
async function runningService(dataDir: string) {
  const child = spawnFixture('holdReadModels.ts', [dataDir]);
  const lines = child.lines[Symbol.asyncIterator]();
  const first = await withTimeout(
    lines.next(),
    30_000,
    () => `the service to start (stderr: ${child.stderr()})`,
  );
  expect(first.value, child.stderr()).toBe('started');
  return child;
}

describe('twofactor projections while the service runs', () => {
  it('rebuild refuses with exit 1 naming the service, and works once the service is gone, even killed', async () => {
    const { dataDir, env } = await dataDirOfStoppedService();
    const service = await runningService(dataDir);
    try {
      const before = dumpTables(join(dataDir, READ_MODELS_FILE));
      const refused = await runTwofactor(['projections', 'rebuild'], env);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`the service \\(pid ${service.process.pid} on [^)]+\\) is running: stop it first`),
      );
      expect(refused.stdout).toBe('');
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(before);

      // Looking is fine meanwhile.
      const status = await runTwofactor(['projections', 'status'], env);
      expect(status.code, status.stderr).toBe(0);
    } finally {
      service.process.kill('SIGKILL');
      await service.exited;
    }
    // A crashed service locks no one out: the operating system dropped its lock.
    const rebuilt = await runTwofactor(['projections', 'rebuild'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt .+: \d+ events applied\n$/);
  });
});

describe('twofactor projections status', () => {
  it('changes nothing, not even a projection written by a newer version', async () => {
    const { dataDir, env } = await dataDirOfStoppedService();
    expect((await runTwofactor(['projections', 'rebuild'], env)).code).toBe(0);
    const file = join(dataDir, READ_MODELS_FILE);
    const db = new Database(file);
    db.exec("UPDATE projection_checkpoints SET version = 99 WHERE name = 'users'");
    db.close();
    const before = dumpTables(file);
    const bytes = readFileSync(file);

    const run = await runTwofactor(['projections', 'status', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).find((s: { name: string }) => s.name === 'users')).toMatchObject({
      version: 99,
    });
    expect(dumpTables(file)).toEqual(before);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('exits 4 saying so when the event store cannot be reached', async () => {
    const dataDir = await dirs.make();
    const run = await runTwofactor(['projections', 'status'], {
      ...serviceEnvironment(dataDir),
      // Nothing listens on port 1.
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
    });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/event store is unavailable/);
    expect(run.stdout).toBe('');
  });
});
