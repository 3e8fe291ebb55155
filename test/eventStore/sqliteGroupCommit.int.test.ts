import { afterAll, describe, expect, it } from 'vitest';
import { EventIdConflictError } from '../../src/eventStore/eventIdConflictError.ts';
import { ConcurrencyConflictError, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { collect, newEvent, uniqueStream } from './eventStoreTestKit.ts';
import { sqliteStoresClosedAfterEach } from './sqliteStores.ts';

/* The SQLite event store's group commit: appends queued together share one transaction, and fail together. */

const dirs = tempDirs('sqlite-event-store');
afterAll(() => dirs.removeAll());

describe('SQLite event store', () => {
  const { openStore, rawConnection } = sqliteStoresClosedAfterEach(dirs);

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
});
