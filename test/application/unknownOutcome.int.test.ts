import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventStore, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt } from '../support/testService.ts';
import { META, serviceOver } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-unknown-outcome');
afterAll(() => dirs.removeAll());

/** A store that writes an append and then loses the answer, as a connection dropped after commit. */
function losingAnswers(store: EventStore, howMany: number) {
  let toLose = 0;
  const appendsSeen: string[][] = [];
  const wrapped: EventStore = {
    ...store,
    readStream: (...args) => store.readStream(...args),
    readAll: (...args) => store.readAll(...args),
    subscribeToAll: (...args) => store.subscribeToAll(...args),
    ping: () => store.ping(),
    close: () => store.close(),
    async appendToStream(streamName, events, options) {
      appendsSeen.push(events.map((e) => e.id));
      const result = await store.appendToStream(streamName, events, options);
      if (toLose > 0) {
        toLose--;
        throw new StoreUnavailableError('connection lost after the write');
      }
      return result;
    },
  };
  return { store: wrapped, loseNext: () => (toLose = howMany), appendsSeen };
}

describe('an append whose answer was lost', () => {
  it('is sent again with the same event ids: the command succeeds once, its events are stored once', async () => {
    const sqlite = openSqliteEventStore({ dataDir: await dirs.make() });
    const flaky = losingAnswers(sqlite, 1);
    const { service, enable, clock } = serviceOver(flaky.store, createInMemorySnapshotStore());
    const { secret } = await enable('ada');
    flaky.loseNext();
    const before = flaky.appendsSeen.length;
    const verified = await service.verify('ada', { code: codeAt(secret, clock.now()) }, META);
    expect(verified.verified).toBe(true);
    const retries = flaky.appendsSeen.slice(before);
    expect(retries).toHaveLength(2);
    expect(retries[1]).toEqual(retries[0]);
    const types: string[] = [];
    for await (const event of sqlite.readStream('two-factor-ada')) types.push(event.type);
    expect(types.filter((t) => t === 'SignInVerified')).toHaveLength(1);
    await sqlite.close();
  });

  it('answers unavailable when the store stays silent, without having written anything twice', async () => {
    const sqlite = openSqliteEventStore({ dataDir: await dirs.make() });
    const flaky = losingAnswers(sqlite, 10);
    const { service, enable, clock } = serviceOver(flaky.store, createInMemorySnapshotStore());
    const { secret } = await enable('bob');
    flaky.loseNext();
    await expect(service.verify('bob', { code: codeAt(secret, clock.now()) }, META)).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    const types: string[] = [];
    for await (const event of sqlite.readStream('two-factor-bob')) types.push(event.type);
    expect(types.filter((t) => t === 'SignInVerified')).toHaveLength(1);
    await sqlite.close();
  });
});

describe('an append whose SQLite writer thread stopped before answering', () => {
  it('is sent again with the same events to a new writer thread: the sign-in succeeds, stored once', async () => {
    const writers: Worker[] = [];
    const sqlite = openSqliteEventStore({
      dataDir: await dirs.make(),
      onWriterStarted: (worker) => writers.push(worker),
    });
    const { service, enable, clock } = serviceOver(sqlite, createInMemorySnapshotStore());
    const { secret } = await enable('cy');
    // The thread stops at a message it does not understand, before the sign-in's batch reaches it.
    writers.at(-1)!.postMessage({ type: 'not-a-message' });

    const verified = await service.verify('cy', { code: codeAt(secret, clock.now()) }, META);

    expect(verified.verified).toBe(true);
    expect(writers).toHaveLength(2);
    expect(sqlite.stats().unansweredBatches).toBe(1);
    const types: string[] = [];
    for await (const event of sqlite.readStream('two-factor-cy')) types.push(event.type);
    expect(types).toEqual(['EnrollmentStarted', 'TwoFactorEnabled', 'SignInVerified']);
    await sqlite.close();
  });
});
