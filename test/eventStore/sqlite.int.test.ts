import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventIdConflictError } from '../../src/eventStore/eventIdConflictError.ts';
import { ConcurrencyConflictError, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { describeEventStoreContract } from './contract.ts';
import {
  captureError,
  collect,
  expectStrictlyIncreasing,
  markLogPosition,
  newEvent,
  probeSubscription,
  uniqueStream,
  withTimeout,
} from './eventStoreTestKit.ts';
import { sqliteStoresClosedAfterEach } from './sqliteStores.ts';

/*
 * The SQLite event store: the shared contract, then what is its own. Group commit, migrations
 * and two stores on one file have their own sqlite*.int.test.ts beside this one.
 */

const dirs = tempDirs('sqlite-event-store');
afterAll(() => dirs.removeAll());

describeEventStoreContract('SQLite', async () => openSqliteEventStore({ dataDir: await dirs.make() }));

const waitLimitMs = 15_000;

describe('SQLite event store', () => {
  const { openStore, rawConnection } = sqliteStoresClosedAfterEach(dirs);

  describe('idempotency', () => {
    it("acknowledges a retry made with 'any'", async () => {
      const store = await openStore();
      const stream = uniqueStream('retry-any');
      const events = [newEvent(), newEvent()];
      const original = await store.appendToStream(stream, events, { expectedRevision: 'any' });
      await store.appendToStream(stream, [newEvent()], { expectedRevision: 'any' });

      expect(await store.appendToStream(stream, events, { expectedRevision: 'any' })).toEqual(original);
      expect(await collect(store.readStream(stream))).toHaveLength(3);
    });

    it('treats a retry whose expected revision does not fit the original as a conflict', async () => {
      const store = await openStore();
      const stream = uniqueStream('retry-misfit');
      const event = newEvent();
      await store.appendToStream(stream, [event], { expectedRevision: 'no-stream' });

      const error = await captureError(store.appendToStream(stream, [event], { expectedRevision: 3n }));

      expect(error).toBeInstanceOf(ConcurrencyConflictError);
      expect(await collect(store.readStream(stream))).toHaveLength(1);
    });

    it('refuses event ids that cannot be a retry of one earlier append, and writes nothing', async () => {
      const store = await openStore();
      const stream = uniqueStream('reuse');
      const [a, b] = [newEvent(), newEvent()];
      await store.appendToStream(stream, [a, b], { expectedRevision: 'no-stream' });
      const fresh = newEvent();

      const partly = await captureError(
        store.appendToStream(stream, [a, fresh], { expectedRevision: 'any' }),
      );
      const reordered = await captureError(store.appendToStream(stream, [b, a], { expectedRevision: 'any' }));
      const elsewhere = await captureError(
        store.appendToStream(uniqueStream('elsewhere'), [a], { expectedRevision: 'any' }),
      );

      for (const error of [partly, reordered, elsewhere]) expect(error).toBeInstanceOf(EventIdConflictError);
      expect((await collect(store.readStream(stream))).map((e) => e.id)).toEqual([a.id, b.id]);
      expect(await collect(store.readAll())).toHaveLength(2);
    });
  });

  describe('input checks', () => {
    it('rejects malformed appends before they reach a batch', async () => {
      const store = await openStore();
      const stream = uniqueStream('bad');
      const event = newEvent();
      const attempts: Promise<unknown>[] = [
        store.appendToStream(stream, [], { expectedRevision: 'any' }),
        store.appendToStream(stream, [{ ...event, id: 'not-a-uuid' }], { expectedRevision: 'any' }),
        store.appendToStream(stream, [event, event], { expectedRevision: 'any' }),
        store.appendToStream(stream, [{ ...event, type: '' }], { expectedRevision: 'any' }),
        store.appendToStream(stream, [newEvent({ big: 1n })], { expectedRevision: 'any' }),
        store.appendToStream('', [newEvent()], { expectedRevision: 'any' }),
        // A JS caller passing a number instead of a bigint would otherwise never match.
        store.appendToStream(stream, [newEvent()], { expectedRevision: 0 as unknown as bigint }),
        store.appendToStream(stream, [newEvent()], { expectedRevision: -1n }),
      ];

      for (const attempt of attempts) expect(await captureError(attempt)).toBeInstanceOf(TypeError);
      expect(store.stats().committedBatches).toBe(0);
    });

    it('rejects a negative maxCount or position when reading', async () => {
      const store = await openStore();

      await expect(collect(store.readAll({ maxCount: -1 }))).rejects.toThrow(RangeError);
      await expect(collect(store.readAll({ after: -1n }))).rejects.toThrow(TypeError);
      await expect(collect(store.readStream('s', { fromRevision: -1n }))).rejects.toThrow(TypeError);
    });
  });

  describe('the database file', () => {
    it('keeps one WAL-mode file under dataDir, named events.sqlite unless told otherwise', async () => {
      const dataDir = join(await dirs.make(), 'nested', 'data');
      const store = await openStore({ dataDir });
      const named = await openStore({ dataDir, fileName: 'other.sqlite' });

      expect(store.filePath).toBe(join(dataDir, 'events.sqlite'));
      expect(named.filePath).toBe(join(dataDir, 'other.sqlite'));
      expect(rawConnection(store).pragma('journal_mode', { simple: true })).toBe('wal');
    });

    it('enforces one event per stream revision in the schema itself, whoever writes', async () => {
      const store = await openStore();
      const stream = uniqueStream('schema');
      await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
      const insert = rawConnection(store).prepare(
        `INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at)
         VALUES (?, ?, 0, 'Sneaked', '{}', '{}', '2020-01-01T00:00:00.000Z')`,
      );

      expect(() => insert.run(randomUUID(), stream)).toThrow(
        /UNIQUE constraint failed: events.stream_name, events.revision/,
      );
    });

    it('keeps revisions and positions beyond 2^53 exact', async () => {
      const store = await openStore();
      await store.appendToStream(uniqueStream('seed'), [newEvent()], { expectedRevision: 'no-stream' });
      const raw = rawConnection(store);
      // Neither value is representable as a double: any trip through `number` would change it.
      const hugePosition = 2n ** 62n + 1n;
      const hugeRevision = 2n ** 53n + 1n;
      raw.prepare(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'`).run(hugePosition);
      const stream = uniqueStream('huge');
      raw
        .prepare(
          `INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at)
           VALUES (?, ?, ?, 'Seeded', '{}', '{}', '2020-01-01T00:00:00.000Z')`,
        )
        .run(randomUUID(), stream, hugeRevision);

      const result = await store.appendToStream(stream, [newEvent()], { expectedRevision: hugeRevision });

      expect(result).toEqual({ nextExpectedRevision: hugeRevision + 1n, position: hugePosition + 2n });
      const [read] = await collect(store.readStream(stream, { fromRevision: hugeRevision + 1n }));
      expect(read).toMatchObject({ revision: hugeRevision + 1n, position: hugePosition + 2n });
      const afterHuge = await collect(store.readAll({ after: hugePosition + 1n }));
      expect(afterHuge.map((e) => e.position)).toEqual([hugePosition + 2n]);
      const stale = await captureError(
        store.appendToStream(stream, [newEvent()], { expectedRevision: hugeRevision }),
      );
      expect(stale).toMatchObject({ actual: hugeRevision + 1n });
    });

    it('pages through more events than fit in one page', async () => {
      const store = await openStore({ pageSize: 7 });
      const stream = uniqueStream('paged');
      let expectedRevision: bigint | 'no-stream' = 'no-stream';
      for (let append = 0; append < 10; append += 1) {
        const events = Array.from({ length: 5 }, (_, index) => newEvent({ n: append * 5 + index }));
        expectedRevision = (await store.appendToStream(stream, events, { expectedRevision }))
          .nextExpectedRevision;
        await store.appendToStream(uniqueStream('noise'), [newEvent()], { expectedRevision: 'no-stream' });
      }

      const whole = await collect(store.readStream(stream));
      const slice = await collect(store.readStream(stream, { fromRevision: 5n, maxCount: 20 }));
      const all = await collect(store.readAll());
      const firstFifteen = await collect(store.readAll({ maxCount: 15 }));
      const subscription = store.subscribeToAll();
      const probe = probeSubscription(subscription, (e) => e.streamName === stream, waitLimitMs);
      await probe.waitForRelevant(50);
      await subscription.close();

      expect(whole.map((e) => e.data.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
      expect(slice.map((e) => e.revision)).toEqual(
        Array.from({ length: 20 }, (_, index) => BigInt(index + 5)),
      );
      expect(all).toHaveLength(60);
      expectStrictlyIncreasing(all.map((e) => e.position));
      expect(firstFifteen.map((e) => e.id)).toEqual(all.slice(0, 15).map((e) => e.id));
      expect(probe.delivered.map((e) => e.id)).toEqual(all.map((e) => e.id));
    });
  });

  describe('reads', () => {
    it('read afresh each time the same iterable is looped over', async () => {
      const store = await openStore();
      const stream = uniqueStream('reread');
      await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
      const streamRead = store.readStream(stream);
      const allRead = store.readAll();

      const before = [await collect(streamRead), await collect(allRead)];
      await store.appendToStream(stream, [newEvent()], { expectedRevision: 0n });
      const after = [await collect(streamRead), await collect(allRead)];

      expect(before.map((read) => read.length)).toEqual([1, 1]);
      expect(after.map((read) => read.length)).toEqual([2, 2]);
    });
  });

  describe('subscriptions', () => {
    it('are woken by their own store right after a commit, without waiting for the poll', async () => {
      // A poll interval far beyond the wait limit: only the in-process wake can deliver in time.
      const store = await openStore({ pollIntervalMs: 10 * 60_000 });
      const start = await markLogPosition(store);
      const stream = uniqueStream('woken');
      const subscription = store.subscribeToAll({ after: start });
      const probe = probeSubscription(subscription, (e) => e.streamName === stream, waitLimitMs);
      await new Promise((resolve) => setTimeout(resolve, 50));

      await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
      await probe.waitForRelevant(1);
      await store.appendToStream(stream, [newEvent()], { expectedRevision: 0n });
      await probe.waitForRelevant(2);
      await subscription.close();

      expect(probe.relevant.map((e) => e.revision)).toEqual([0n, 1n]);
    });

    it('can be iterated only once', async () => {
      const store = await openStore();
      const subscription = store.subscribeToAll();
      subscription[Symbol.asyncIterator]();

      expect(() => subscription[Symbol.asyncIterator]()).toThrow(/only once/);
      await subscription.close();
    });
  });

  describe('closing', () => {
    it('commits appends still queued, then refuses new ones', async () => {
      const dataDir = await dirs.make();
      const store = openSqliteEventStore({ dataDir });
      const stream = uniqueStream('closing');
      const queued = store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });

      await store.close();

      await expect(queued).resolves.toMatchObject({ nextExpectedRevision: 0n });
      expect(() => store.subscribeToAll()).toThrow(StoreUnavailableError);
      await expect(collect(store.readAll())).rejects.toThrow(StoreUnavailableError);
      const reopened = await openStore({ dataDir });
      expect(await collect(reopened.readStream(stream))).toHaveLength(1);
    });

    it('ends live subscriptions', async () => {
      const store = openSqliteEventStore({ dataDir: await dirs.make() });
      const probe = probeSubscription(store.subscribeToAll(), () => true, waitLimitMs);
      await store.appendToStream(uniqueStream('live'), [newEvent()], { expectedRevision: 'no-stream' });
      await probe.waitForRelevant(1);

      await store.close();

      await withTimeout(probe.ended, waitLimitMs, 'the subscription to end with the store');
    });
  });
});
