import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EventIdConflictError } from '../../src/eventStore/eventIdConflictError.ts';
import { ConcurrencyConflictError, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { migrate, migrations } from '../../src/eventStore/sqlite/migrations.ts';
import {
  openSqliteEventStore,
  type SqliteEventStore,
  type SqliteEventStoreOptions,
} from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { spawnTsx } from '../support/tsxChild.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

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

const dirs = tempDirs('sqlite-event-store');
afterAll(() => dirs.removeAll());

describeEventStoreContract('SQLite', async () => openSqliteEventStore({ dataDir: await dirs.make() }));

const waitLimitMs = 15_000;

describe('SQLite event store', () => {
  const opened: SqliteEventStore[] = [];
  const rawConnections: Database.Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    for (const db of rawConnections.splice(0)) db.close();
  });

  async function openStore(options: Partial<SqliteEventStoreOptions> = {}): Promise<SqliteEventStore> {
    const store = openSqliteEventStore({ dataDir: options.dataDir ?? (await dirs.make()), ...options });
    opened.push(store);
    return store;
  }

  /** A second, plain connection to the store's file: what another tool or process would see. */
  function rawConnection(store: SqliteEventStore): Database.Database {
    const db = new Database(store.filePath);
    db.pragma('busy_timeout = 5000');
    rawConnections.push(db);
    return db;
  }

  describe('group commit', () => {
    it('writes appends that arrive together in one transaction', async () => {
      const store = await openStore();
      const before = store.stats();

      const results = await Promise.all(
        Array.from({ length: 100 }, () =>
          store.appendToStream(uniqueStream('batch'), [newEvent()], { expectedRevision: 'no-stream' }),
        ),
      );

      const after = store.stats();
      // All 100 are submitted before the queue's setImmediate fires, so they share one batch.
      expect(after.committedBatches - before.committedBatches).toBe(1);
      expect(after.acknowledgedAppends - before.acknowledgedAppends).toBe(100);
      expect(new Set(results.map((result) => result.position)).size).toBe(100);
      expect(await collect(store.readAll())).toHaveLength(100);
    });

    it('answers each append of a batch on its own: one bad append does not fail the others', async () => {
      const store = await openStore();
      const existing = uniqueStream('existing');
      const reused = newEvent();
      await store.appendToStream(existing, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
      await store.appendToStream(uniqueStream('other'), [reused], { expectedRevision: 'no-stream' });
      const good = [uniqueStream('good'), uniqueStream('good'), uniqueStream('good')];
      const stale = newEvent();
      const before = store.stats();

      const outcomes = await Promise.allSettled([
        store.appendToStream(good[0]!, [newEvent()], { expectedRevision: 'no-stream' }),
        store.appendToStream(existing, [stale], { expectedRevision: 0n }),
        store.appendToStream(good[1]!, [newEvent(), newEvent()], { expectedRevision: 'no-stream' }),
        store.appendToStream(existing, [reused], { expectedRevision: 'any' }),
        store.appendToStream(good[2]!, [newEvent()], { expectedRevision: 'any' }),
      ]);

      expect(store.stats().committedBatches - before.committedBatches).toBe(1);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyConflictError);
      expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(EventIdConflictError);
      expect(await collect(store.readStream(good[1]!))).toHaveLength(2);
      expect((await collect(store.readStream(existing))).map((e) => e.id)).not.toContain(stale.id);
    });

    it('lets later appends of a batch see the earlier ones', async () => {
      const store = await openStore();
      const stream = uniqueStream('same-batch');
      const first = newEvent();
      const before = store.stats();

      const outcomes = await Promise.allSettled([
        store.appendToStream(stream, [first], { expectedRevision: 'no-stream' }),
        store.appendToStream(stream, [newEvent()], { expectedRevision: 0n }),
        store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
        store.appendToStream(stream, [first], { expectedRevision: 'no-stream' }),
      ]);

      expect(store.stats().committedBatches - before.committedBatches).toBe(1);
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      // The in-batch retry of the first append gets the first append's answer.
      expect((outcomes[3] as PromiseFulfilledResult<unknown>).value).toEqual(
        (outcomes[0] as PromiseFulfilledResult<unknown>).value,
      );
      expect((await collect(store.readStream(stream))).map((e) => e.revision)).toEqual([0n, 1n]);
    });
  });

  describe('a batch that cannot commit', () => {
    it('rejects all its appends as unavailable, writes none, and a retry by event id succeeds later', async () => {
      const store = await openStore({ busyTimeoutMs: 50 });
      const blocker = rawConnection(store);
      blocker.pragma('busy_timeout = 0');
      const stream = uniqueStream('blocked');
      const events = [newEvent(), newEvent()];
      blocker.exec('BEGIN IMMEDIATE');

      const outcomes = await Promise.allSettled([
        store.appendToStream(stream, events, { expectedRevision: 'no-stream' }),
        store.appendToStream(uniqueStream('blocked'), [newEvent()], { expectedRevision: 'no-stream' }),
      ]);
      blocker.exec('ROLLBACK');

      for (const outcome of outcomes) {
        expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(StoreUnavailableError);
      }
      expect(store.stats()).toMatchObject({ committedBatches: 0, failedBatches: 1 });
      expect(await collect(store.readAll())).toEqual([]);
      await expect(store.appendToStream(stream, events, { expectedRevision: 'no-stream' })).resolves.toEqual({
        nextExpectedRevision: 1n,
        position: 2n,
      });
    });
  });

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

  describe('migrations', () => {
    it('reopening applies nothing again and keeps the log', async () => {
      const dataDir = await dirs.make();
      const first = openSqliteEventStore({ dataDir });
      const stream = uniqueStream('reopen');
      await first.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
      await first.close();

      const reopened = await openStore({ dataDir });
      await reopened.appendToStream(stream, [newEvent()], { expectedRevision: 0n });

      expect(await collect(reopened.readStream(stream))).toHaveLength(2);
      const raw = rawConnection(reopened);
      expect(raw.pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(migrate(raw)).toEqual({ from: migrations.length, to: migrations.length });
    });

    it('applies only the migrations not yet applied, in order', () => {
      const db = new Database(':memory:');
      rawConnections.push(db);
      const one = { version: 1, description: 'one', sql: 'CREATE TABLE one (x INTEGER)' };
      const two = { version: 2, description: 'two', sql: 'CREATE TABLE two (x INTEGER)' };

      expect(migrate(db, [one])).toEqual({ from: 0, to: 1 });
      // Re-running `one` would fail with "table one already exists".
      expect(migrate(db, [one, two])).toEqual({ from: 1, to: 2 });
      expect(
        db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all(),
      ).toEqual(['one', 'two']);
      expect(() => migrate(db, [two])).toThrow(/numbered/);
    });

    it('refuses to open a database written by a newer schema', async () => {
      const dataDir = await dirs.make();
      const db = new Database(join(dataDir, 'events.sqlite'));
      db.pragma('user_version = 99');
      db.close();

      expect(() => openSqliteEventStore({ dataDir })).toThrow(/newer/);
    });
  });

  describe('two stores on one file', () => {
    it('never lets both append the same revision', async () => {
      const dataDir = await dirs.make();
      const [a, b] = [await openStore({ dataDir }), await openStore({ dataDir })];
      const streams = Array.from({ length: 20 }, () => uniqueStream('shared'));

      const outcomes = await Promise.all(
        streams.map((stream) =>
          Promise.allSettled([
            a.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
            b.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
          ]),
        ),
      );

      for (const pair of outcomes) {
        expect(pair.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        const loser = pair.find((outcome) => outcome.status === 'rejected');
        expect(loser?.reason).toBeInstanceOf(ConcurrencyConflictError);
      }
      for (const stream of streams) expect(await collect(a.readStream(stream))).toHaveLength(1);
    });

    it("delivers another store's appends to a subscription, through the poll", async () => {
      const dataDir = await dirs.make();
      const [subscriber, writer] = [await openStore({ dataDir }), await openStore({ dataDir })];
      const start = await markLogPosition(subscriber);
      const stream = uniqueStream('cross');
      const subscription = subscriber.subscribeToAll({ after: start });
      const probe = probeSubscription(subscription, (e) => e.streamName === stream, waitLimitMs);

      await writer.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
      await writer.appendToStream(stream, [newEvent()], { expectedRevision: 1n });
      await probe.waitForRelevant(3);
      await subscription.close();

      expect(probe.relevant.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    });

    it('never lets two processes append the same revision', async () => {
      const dataDir = await dirs.make();
      const [streams, rounds] = [8, 25];
      const racers = [0, 1].map(() =>
        spawnTsx(fixture('raceForRevisions.ts'), [dataDir, String(streams), String(rounds)]),
      );
      const outputs = racers.map((racer) => {
        const lines: string[] = [];
        let markReady = () => {};
        const ready = new Promise<void>((resolve) => {
          markReady = resolve;
        });
        const finished = (async () => {
          for await (const line of racer.lines) {
            if (line === 'ready') markReady();
            else lines.push(line);
          }
        })();
        return { lines, ready, finished };
      });

      await withTimeout(Promise.all(outputs.map((output) => output.ready)), 30_000, 'both racers to start');
      for (const racer of racers) racer.process.stdin.write('go\n');
      await withTimeout(
        Promise.all(outputs.map((output) => output.finished)),
        50_000,
        'both racers to finish',
      );
      const exits = await Promise.all(racers.map((racer) => racer.exited));

      expect(exits, racers.map((racer) => racer.stderr()).join('\n')).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      expect(outputs.every((output) => output.lines.at(-1) === 'done')).toBe(true);
      const wins = outputs.flatMap((output) =>
        output.lines
          .filter((line) => line !== 'done')
          .map((line) => JSON.parse(line) as { stream: string; revision: number; id: string }),
      );
      const store = await openStore({ dataDir });
      for (let index = 0; index < streams; index += 1) {
        const stream = `race-${index}`;
        const stored = await collect(store.readStream(stream));
        const claimed = wins.filter((win) => win.stream === stream).sort((x, y) => x.revision - y.revision);
        // Every revision was won exactly once, and by the event that is stored there.
        expect(claimed.map((win) => win.revision)).toEqual(Array.from({ length: rounds }, (_, r) => r));
        expect(stored.map((e) => e.id)).toEqual(claimed.map((win) => win.id));
      }
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
