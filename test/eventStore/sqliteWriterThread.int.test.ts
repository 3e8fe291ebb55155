import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventToAppend, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import {
  collect,
  markLogPosition,
  newEvent,
  probeSubscription,
  uniqueStream,
  withTimeout,
} from './eventStoreTestKit.ts';
import { sqliteStoresClosedAfterEach } from './sqliteStores.ts';

/*
 * The SQLite event store commits in a writer thread of its own. What that thread adds: it can
 * die with a batch unanswered, it is started again, and closing waits for it.
 */

const dirs = tempDirs('sqlite-writer-thread');
afterAll(() => dirs.removeAll());

const waitLimitMs = 15_000;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** The writer threads a store starts, in order. */
function writers() {
  const started: Worker[] = [];
  return {
    started,
    onWriterStarted: (worker: Worker) => started.push(worker),
    /**
     * Makes the current writer thread fail as an error would: it stops at a message it does
     * not understand, after answering whatever it was sent before. (Terminating a thread in
     * the middle of a SQLite call would bring down the whole process, not just the thread.)
     */
    breakCurrent: () => started.at(-1)?.postMessage({ type: 'not-a-message' }),
  };
}

describe('SQLite event store writer thread', () => {
  const { openStore } = sqliteStoresClosedAfterEach(dirs);

  it('fails the appends its thread died before answering as unavailable; sent again, they are stored once', async () => {
    const threads = writers();
    const store = await openStore({ onWriterStarted: threads.onWriterStarted });
    await store.appendToStream(uniqueStream('first'), [newEvent()], { expectedRevision: 'no-stream' });
    const stream = uniqueStream('unanswered');
    const events = [newEvent(), newEvent()];

    threads.breakCurrent();
    const pending = store.appendToStream(stream, events, { expectedRevision: 'no-stream' });

    await expect(pending).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(pending).rejects.toThrow(/writer thread stopped/);
    expect(store.stats()).toMatchObject({ committedBatches: 1, unansweredBatches: 1 });
    const retried = await store.appendToStream(stream, events, { expectedRevision: 'no-stream' });
    expect(retried.nextExpectedRevision).toBe(1n);
    expect((await collect(store.readStream(stream))).map((event) => event.id)).toEqual(
      events.map((event) => event.id),
    );
    expect(threads.started).toHaveLength(2);
  });

  it('loses and doubles nothing when its thread dies between batches: what resolved is stored, the rest stores once when sent again', async () => {
    const threads = writers();
    const store = await openStore({ onWriterStarted: threads.onWriterStarted });
    const sent: { stream: string; events: EventToAppend[]; outcome: Promise<unknown> }[] = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 20; i++) {
        const stream = uniqueStream(`round-${round}`);
        const events = [newEvent({ round, i })];
        sent.push({
          stream,
          events,
          outcome: store.appendToStream(stream, events, { expectedRevision: 'no-stream' }),
        });
        // The thread dies a little later each round: before, between or after the batches.
        if (i === round * 2) threads.breakCurrent();
        if (i % 5 === 4) await nextTurn();
      }
      await new Promise((resolve) => setTimeout(resolve, round));
    }
    const settled = await Promise.allSettled(sent.map((append) => append.outcome));
    for (const outcome of settled) {
      if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StoreUnavailableError);
    }
    expect(settled.some((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(settled.some((outcome) => outcome.status === 'fulfilled')).toBe(true);

    for (const [index, append] of sent.entries()) {
      if (settled[index]!.status === 'fulfilled') {
        expect(await collect(store.readStream(append.stream))).toHaveLength(1);
      } else {
        // The outcome was unknown: the same events again are written now or acknowledged.
        await store.appendToStream(append.stream, append.events, { expectedRevision: 'no-stream' });
      }
    }
    const log = await collect(store.readAll());
    expect(log.map((event) => event.id).sort()).toEqual(sent.map((append) => append.events[0]!.id).sort());
  });

  it('ping starts a new writer thread after one died, and answers once it does', async () => {
    const threads = writers();
    const store = await openStore({ onWriterStarted: threads.onWriterStarted });
    await store.appendToStream(uniqueStream('before'), [newEvent()], { expectedRevision: 'no-stream' });
    const died = new Promise((resolve) => threads.started[0]!.once('exit', resolve));
    threads.breakCurrent();
    await died;

    await store.ping();

    expect(threads.started).toHaveLength(2);
    await expect(
      store.appendToStream(uniqueStream('after'), [newEvent()], { expectedRevision: 'no-stream' }),
    ).resolves.toMatchObject({ nextExpectedRevision: 0n });
  });

  it('closing commits the batch in flight and everything queued behind it', async () => {
    const dataDir = await dirs.make();
    const store = await openStore({ dataDir });
    const appends = (label: string) =>
      Array.from({ length: 50 }, () =>
        store.appendToStream(uniqueStream(label), [newEvent()], { expectedRevision: 'no-stream' }),
      );
    const inFlight = appends('in-flight');
    await nextTurn();
    const queued = appends('queued');

    await store.close();

    const settled = await Promise.allSettled([...inFlight, ...queued]);
    expect(settled.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const reopened = await openStore({ dataDir });
    expect(await collect(reopened.readAll())).toHaveLength(100);
  });

  it("wakes another store's subscriptions in this process at its commit, without their poll", async () => {
    const dataDir = await dirs.make();
    // A poll far beyond the wait limit: only the announcement of the commit can deliver in time.
    const follower = await openStore({ dataDir, pollIntervalMs: 10 * 60_000 });
    const writer = await openStore({ dataDir });
    const start = await markLogPosition(writer);
    const stream = uniqueStream('announced');
    const subscription = follower.subscribeToAll({ after: start });
    const probe = probeSubscription(subscription, (event) => event.streamName === stream, waitLimitMs);
    await new Promise((resolve) => setTimeout(resolve, 50));

    await writer.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
    await withTimeout(probe.waitForRelevant(2), waitLimitMs, 'the announced events');
    await subscription.close();

    expect(probe.relevant.map((event) => event.revision)).toEqual([0n, 1n]);
  });
});
