import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { openSqliteSnapshotStore } from '../../src/snapshots/sqliteSnapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt } from '../support/testService.ts';
import { countingReads, META, serviceOver } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-loading');
afterAll(() => dirs.removeAll());

const SIGN_INS = 10_000;

describe('loading an aggregate does not grow with its history', () => {
  it(`reads a bounded number of events for a user with ${SIGN_INS} sign-ins, warm and cold`, async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const snapshots = openSqliteSnapshotStore(dataDir);
    const { service, enable, clock } = serviceOver(store, snapshots);
    const { secret } = await enable('busy');
    await enable('quiet');
    for (let i = 0; i < SIGN_INS; i++) {
      await service.verify('busy', { code: codeAt(secret, clock.now()) }, META);
      clock.advance(30_000);
    }
    await store.close();
    snapshots.close();

    // A new process: no cache, only the snapshots on disk.
    const reopened = openSqliteEventStore({ dataDir });
    const counting = countingReads(reopened);
    const reopenedSnapshots = openSqliteSnapshotStore(dataDir);
    const cold = serviceOver(counting.store, reopenedSnapshots, clock);
    await cold.service.status('busy');
    const coldBusy = counting.read();
    counting.reset();
    await cold.service.status('quiet');
    const coldQuiet = counting.read();
    // At most one snapshot interval of events (plus the snapshot's own check), never the history.
    expect(coldBusy).toBeLessThanOrEqual(60);
    expect(coldQuiet).toBeLessThanOrEqual(60);

    counting.reset();
    await cold.service.verify('busy', { code: codeAt(secret, clock.now()) }, META);
    expect(counting.read()).toBeLessThanOrEqual(1);
    await reopened.close();
    reopenedSnapshots.close();
  }, 180_000);

  it('ignores a snapshot that no longer matches its stream, and folds from the start', async () => {
    const first = openSqliteEventStore({ dataDir: await dirs.make() });
    const snapshots = createInMemorySnapshotStore();
    const a = serviceOver(first, snapshots);
    await a.enable('u');
    await first.close();

    // Same snapshots, another (empty) store: the snapshot must not be trusted.
    const other = openSqliteEventStore({ dataDir: await dirs.make() });
    const b = serviceOver(other, snapshots);
    // Force a snapshot to exist for 'u' that the new store cannot back.
    await snapshots.save({
      streamName: 'two-factor-u',
      revision: 1n,
      lastHash: 'f'.repeat(64),
      stateVersion: 1,
      state: { enabled: true },
    });
    expect((await b.service.status('u')).status).toBe('disabled');
    await other.close();
  });
});
