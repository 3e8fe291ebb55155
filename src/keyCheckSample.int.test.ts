import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDirs } from '../test/support/tempDirs.ts';
import type { EventStore, RecordedEvent } from './eventStore/eventStore.ts';
import { openSqliteEventStore } from './eventStore/sqlite/sqliteEventStore.ts';
import { KEY_CHECK_SAMPLE_FILE, usersByKeyIdInLog } from './keyCheckSample.ts';

const dirs = tempDirs('key-check-sample');
const stores: EventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await dirs.removeAll();
});

/** A store whose reads of the whole log are counted, event by event. */
function counting(store: EventStore) {
  let read = 0;
  const counted: EventStore = Object.create(store);
  counted.readAll = (options) => ({
    async *[Symbol.asyncIterator]() {
      for await (const event of store.readAll(options)) {
        read++;
        yield event as RecordedEvent;
      }
    },
  });
  return { store: counted, read: () => read };
}

/** `users` enroll, in order: each secret sealed with the key id given. */
async function enroll(store: EventStore, users: readonly [userId: string, keyId: string][]) {
  for (const [userId, keyId] of users) {
    await store.appendToStream(
      `two-factor-${userId}`,
      [{ id: randomUUID(), type: 'EnrollmentStarted', data: { userId, secret: { keyId } }, metadata: {} }],
      { expectedRevision: 'no-stream' },
    );
  }
}

async function storeIn(dataDir: string) {
  const store = openSqliteEventStore({ dataDir });
  stores.push(store);
  return store;
}

describe("the users the start-up key check takes from the log's first events", () => {
  it('are one per key id, read from the log while it is shorter than the window', async () => {
    const dataDir = await dirs.make();
    const store = await storeIn(dataDir);
    await enroll(store, [
      ['ada', 'k1'],
      ['bob', 'k1'],
      ['cy', 'k2'],
    ]);
    expect(await usersByKeyIdInLog(store, dataDir, 10)).toEqual(['ada', 'cy']);
    // The window may still fill up: nothing is kept.
    expect(existsSync(join(dataDir, KEY_CHECK_SAMPLE_FILE))).toBe(false);
  });

  it('are kept once the window is full, and read back without reading those events again', async () => {
    const dataDir = await dirs.make();
    const store = await storeIn(dataDir);
    await enroll(store, [
      ['ada', 'k1'],
      ['bob', 'k2'],
      ['cy', 'k3'],
      ['dee', 'k4'],
    ]);
    expect(await usersByKeyIdInLog(store, dataDir, 3)).toEqual(['ada', 'bob', 'cy']);
    const next = counting(store);
    expect(await usersByKeyIdInLog(next.store, dataDir, 3)).toEqual(['ada', 'bob', 'cy']);
    expect(next.read()).toBe(1);
  });

  it('are read again from a replaced store, whose first event is another', async () => {
    const dataDir = await dirs.make();
    const first = await storeIn(dataDir);
    await enroll(first, [
      ['ada', 'k1'],
      ['bob', 'k2'],
    ]);
    expect(await usersByKeyIdInLog(first, dataDir, 2)).toEqual(['ada', 'bob']);
    const other = await storeIn(await dirs.make());
    await enroll(other, [
      ['eve', 'k9'],
      ['fay', 'k9'],
    ]);
    expect(await usersByKeyIdInLog(other, dataDir, 2)).toEqual(['eve']);
  });
});
