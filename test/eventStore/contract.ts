// Over 350 lines on purpose: one contract that every EventStore adapter must pass whole, so it stays one suite.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AppendResult,
  ConcurrencyConflictError,
  type EventStore,
  type JsonObject,
  type RecordedEvent,
  StoreUnavailableError,
} from '../../src/eventStore/eventStore.ts';
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

export type EventStoreContractOptions = {
  /** generous upper bound on waiting for a subscription to deliver or end; default 15 s */
  readonly timeoutMs?: number;
};

/**
 * The behaviour every EventStore adapter must show. `open` returns a fresh, connected store
 * for each test; the suite closes it afterwards. Tests use their own random streams and read
 * the global log only after a position they captured themselves, so the suite also runs
 * against a shared server that already holds (and keeps receiving) other events.
 */
export function describeEventStoreContract(
  name: string,
  open: () => Promise<EventStore>,
  options: EventStoreContractOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 15_000;

  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      // close() is idempotent by contract, so tests that close the store themselves are fine.
      await store.close();
    });

    const readStream = (streamName: string, fromRevision?: bigint, maxCount?: number) =>
      collect(store.readStream(streamName, { fromRevision, maxCount }));

    describe('appendToStream', () => {
      it("starts a new stream with 'no-stream'; revisions are 0-based", async () => {
        const stream = uniqueStream('new');
        const events = [newEvent({ n: 1 }, {}, 'First'), newEvent({ n: 2 }, {}, 'Second')];

        const result = await store.appendToStream(stream, events, { expectedRevision: 'no-stream' });

        expect(result.nextExpectedRevision).toBe(1n);
        expect(typeof result.position).toBe('bigint');
        expect(result.position > 0n).toBe(true);
        const stored = await readStream(stream);
        expect(stored.map((e) => [e.id, e.streamName, e.revision, e.type])).toEqual([
          [events[0]!.id, stream, 0n, 'First'],
          [events[1]!.id, stream, 1n, 'Second'],
        ]);
        // The result's position is that of the append's last event.
        expect(stored[1]!.position).toBe(result.position);
      });

      it('appends at the exact revision of the last event', async () => {
        const stream = uniqueStream('exact');
        const first = newEvent();
        const more = [newEvent(), newEvent()];
        const r0 = await store.appendToStream(stream, [first], { expectedRevision: 'no-stream' });

        const r1 = await store.appendToStream(stream, more, { expectedRevision: r0.nextExpectedRevision });

        expect(r0.nextExpectedRevision).toBe(0n);
        expect(r1.nextExpectedRevision).toBe(2n);
        expect(r1.position > r0.position).toBe(true);
        expect((await readStream(stream)).map((e) => e.id)).toEqual([first.id, more[0]!.id, more[1]!.id]);
      });

      it("'any' appends whether or not the stream exists", async () => {
        const stream = uniqueStream('any');

        const created = await store.appendToStream(stream, [newEvent()], { expectedRevision: 'any' });
        const extended = await store.appendToStream(stream, [newEvent()], { expectedRevision: 'any' });

        expect(created.nextExpectedRevision).toBe(0n);
        expect(extended.nextExpectedRevision).toBe(1n);
        expect(await readStream(stream)).toHaveLength(2);
      });

      it("refuses 'no-stream' on an existing stream and writes nothing", async () => {
        const stream = uniqueStream('exists');
        await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });

        const error = await captureError(
          store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
        );

        expect(error).toBeInstanceOf(ConcurrencyConflictError);
        expect(error).toMatchObject({ streamName: stream, expected: 'no-stream', actual: 0n });
        expect(await readStream(stream)).toHaveLength(1);
      });

      it('refuses stream names and event types that start with "$" (the store\'s own), writing nothing', async () => {
        const marker = await markLogPosition(store);
        const stream = uniqueStream('reserved');

        for (const attempt of [
          () => store.appendToStream(`$${stream}`, [newEvent()], { expectedRevision: 'any' }),
          () => store.appendToStream(stream, [newEvent({}, {}, '$Reserved')], { expectedRevision: 'any' }),
        ]) {
          await expect(attempt()).rejects.toThrow(TypeError);
        }
        const written = await collect(store.readAll({ after: marker }));
        expect(written.filter((event) => event.streamName.endsWith(stream))).toEqual([]);
      });

      it('refuses a stale or a future revision and writes nothing', async () => {
        const stream = uniqueStream('stale');
        await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], {
          expectedRevision: 'no-stream',
        });

        const stale = await captureError(
          store.appendToStream(stream, [newEvent()], { expectedRevision: 1n }),
        );
        const future = await captureError(
          store.appendToStream(stream, [newEvent()], { expectedRevision: 5n }),
        );

        expect(stale).toBeInstanceOf(ConcurrencyConflictError);
        expect(stale).toMatchObject({ streamName: stream, expected: 1n, actual: 2n });
        expect(future).toBeInstanceOf(ConcurrencyConflictError);
        expect(future).toMatchObject({ expected: 5n, actual: 2n });
        expect(await readStream(stream)).toHaveLength(3);
      });

      it('refuses an exact revision on a stream that does not exist', async () => {
        const stream = uniqueStream('missing');

        const error = await captureError(
          store.appendToStream(stream, [newEvent()], { expectedRevision: 0n }),
        );

        expect(error).toBeInstanceOf(ConcurrencyConflictError);
        expect(error).toMatchObject({ streamName: stream, expected: 0n, actual: 'no-stream' });
        expect(await readStream(stream)).toEqual([]);
      });

      it('lets exactly one of 20 concurrent appends with the same expected revision win', async () => {
        const stream = uniqueStream('race');
        await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
        const contenders = Array.from({ length: 20 }, (_, index) => newEvent({ contender: index }));

        const outcomes = await Promise.allSettled(
          contenders.map((event) => store.appendToStream(stream, [event], { expectedRevision: 0n })),
        );

        const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [index] : []));
        const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) expect(loser.reason).toBeInstanceOf(ConcurrencyConflictError);
        const stored = await readStream(stream);
        expect(stored.map((e) => e.id)).toEqual([stored[0]!.id, contenders[winners[0]!]!.id]);
      });

      it("lets exactly one of 20 concurrent 'no-stream' appends create the stream", async () => {
        const stream = uniqueStream('create-race');

        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, () =>
            store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' }),
          ),
        );

        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(ConcurrencyConflictError);
        }
        expect(await readStream(stream)).toHaveLength(2);
      });
    });

    describe('idempotent appends', () => {
      it('acknowledges a retry with the same event ids with the original result, without writing again', async () => {
        const stream = uniqueStream('retry');
        const events = [newEvent({ step: 1 }), newEvent({ step: 2 })];
        const original = await store.appendToStream(stream, events, { expectedRevision: 'no-stream' });

        const retried = await store.appendToStream(stream, events, { expectedRevision: 'no-stream' });

        expect(retried).toEqual(original);
        expect((await readStream(stream)).map((e) => e.id)).toEqual(events.map((e) => e.id));
      });

      it('still acknowledges a retry after the stream has moved on', async () => {
        const stream = uniqueStream('late-retry');
        const first = newEvent();
        const original = await store.appendToStream(stream, [first], { expectedRevision: 'no-stream' });
        await store.appendToStream(stream, [newEvent()], { expectedRevision: 0n });

        const retried = await store.appendToStream(stream, [first], { expectedRevision: 'no-stream' });

        expect(retried).toEqual(original);
        expect(await readStream(stream)).toHaveLength(2);
      });
    });

    describe('readStream', () => {
      it('reads from a middle revision, and at most maxCount events', async () => {
        const stream = uniqueStream('read');
        const events = Array.from({ length: 5 }, (_, index) => newEvent({ index }));
        await store.appendToStream(stream, events.slice(0, 2), { expectedRevision: 'no-stream' });
        await store.appendToStream(stream, events.slice(2), { expectedRevision: 1n });
        const revisions = (read: RecordedEvent[]) => read.map((e) => e.revision);

        expect(revisions(await readStream(stream))).toEqual([0n, 1n, 2n, 3n, 4n]);
        expect(revisions(await readStream(stream, 2n))).toEqual([2n, 3n, 4n]);
        expect(revisions(await readStream(stream, undefined, 2))).toEqual([0n, 1n]);
        expect(revisions(await readStream(stream, 1n, 3))).toEqual([1n, 2n, 3n]);
        expect(await readStream(stream, 5n)).toEqual([]);
        expect((await readStream(stream, 3n)).map((e) => e.data)).toEqual([{ index: 3 }, { index: 4 }]);
      });

      it('reads an unknown stream as empty', async () => {
        expect(await readStream(uniqueStream('unknown'))).toEqual([]);
      });

      it('round-trips type, data and metadata exactly, unicode included', async () => {
        const stream = uniqueStream('roundtrip');
        const data: JsonObject = {
          text: 'Grüße, 你好, مرحبا, שלום, नमस्ते, 😀👩‍👩‍👧, e\u0301',
          quotes: `"'\\/\n\t`,
          empty: '',
          numbers: [0, -1, 1.5, -273.15, 1e-7, Number.MAX_SAFE_INTEGER],
          flags: [true, false, null],
          nested: { deeper: { list: [{ a: 1 }, [], {}] } },
          long: 'x'.repeat(20_000),
        };
        const metadata: JsonObject = {
          correlationId: 'c-1',
          actor: { role: 'user', id: 'ü-42' },
          userAgent: 'Mozilla/5.0 (Ω)',
          schemaVersion: 3,
        };
        const event = newEvent(data, metadata, 'RoundTripped');
        await store.appendToStream(stream, [event], { expectedRevision: 'no-stream' });

        const [stored] = await readStream(stream);

        expect(stored!.type).toBe('RoundTripped');
        expect(stored!.data).toStrictEqual(data);
        expect(stored!.metadata).toStrictEqual(metadata);
        expect(stored!.recordedAt).toBeInstanceOf(Date);
        expect(Number.isNaN(stored!.recordedAt.getTime())).toBe(false);
      });
    });

    describe('readAll', () => {
      it('reads every stream in global order, strictly after the given position', async () => {
        const start = await markLogPosition(store);
        const a = uniqueStream('all-a');
        const b = uniqueStream('all-b');
        const appended: { id: string; position: bigint }[] = [];
        for (const [stream, expectedRevision] of [
          [a, 'no-stream'],
          [b, 'no-stream'],
          [a, 0n],
          [b, 0n],
        ] as const) {
          const event = newEvent();
          const result = await store.appendToStream(stream, [event], { expectedRevision });
          appended.push({ id: event.id, position: result.position });
        }
        const ours = (read: RecordedEvent[]) =>
          read.filter((e) => e.streamName === a || e.streamName === b).map((e) => e.id);

        const all = await collect(store.readAll({ after: start }));
        const afterSecond = await collect(store.readAll({ after: appended[1]!.position }));

        expect(ours(all)).toEqual(appended.map((e) => e.id));
        expect(all.every((e) => e.position > start)).toBe(true);
        expectStrictlyIncreasing(all.map((e) => e.position));
        expect(all.filter((e) => appended.some((x) => x.id === e.id)).map((e) => e.position)).toEqual(
          appended.map((e) => e.position),
        );
        expect(ours(afterSecond)).toEqual([appended[2]!.id, appended[3]!.id]);
        expect(afterSecond[0]!.position > appended[1]!.position).toBe(true);
      });

      it('reads at most maxCount events', async () => {
        const start = await markLogPosition(store);
        const stream = uniqueStream('all-max');
        const first = await store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' });
        await store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 0n });

        const read = await collect(store.readAll({ after: start, maxCount: 2 }));

        // Other writers may interleave on a shared server, so only the count and the bounds are certain.
        expect(read).toHaveLength(2);
        expect(read[0]!.position > start).toBe(true);
        expect(read[0]!.position <= first.position).toBe(true);
        expectStrictlyIncreasing(read.map((e) => e.position));
      });

      it('reads from the beginning of the log when no position is given', async () => {
        const marker = await markLogPosition(store);

        const read = await collect(store.readAll({ maxCount: 3 }));

        expect(read.length).toBeGreaterThan(0);
        expect(read[0]!.position > 0n).toBe(true);
        expect(read[0]!.position <= marker).toBe(true);
        expectStrictlyIncreasing(read.map((e) => e.position));
      });

      it('gives strictly increasing bigint positions within and across appends', async () => {
        const stream = uniqueStream('positions');
        const r0 = await store.appendToStream(stream, [newEvent(), newEvent(), newEvent()], {
          expectedRevision: 'no-stream',
        });
        const r1 = await store.appendToStream(stream, [newEvent()], {
          expectedRevision: r0.nextExpectedRevision,
        });

        const stored = await readStream(stream);

        for (const event of stored) {
          expect(typeof event.position).toBe('bigint');
          expect(typeof event.revision).toBe('bigint');
        }
        expect(typeof r0.nextExpectedRevision).toBe('bigint');
        expectStrictlyIncreasing(stored.map((e) => e.position));
        expect(stored[2]!.position).toBe(r0.position);
        expect(stored[3]!.position).toBe(r1.position);
        expect(r1.position > r0.position).toBe(true);
      });
    });

    describe('subscribeToAll', () => {
      it('catches up, then goes live: in order, exactly once, and ends on close()', async () => {
        const start = await markLogPosition(store);
        const stream = uniqueStream('sub');
        const events = Array.from({ length: 5 }, (_, index) => newEvent({ index }));
        await store.appendToStream(stream, [events[0]!], { expectedRevision: 'no-stream' });
        await store.appendToStream(stream, [events[1]!], { expectedRevision: 0n });
        const subscription = store.subscribeToAll({ after: start });
        const probe = probeSubscription(subscription, (e) => e.streamName === stream, timeoutMs);

        await probe.waitForRelevant(2);
        await store.appendToStream(stream, [events[2]!, events[3]!], { expectedRevision: 1n });
        await probe.waitForRelevant(4);
        // A duplicate or a reordering would show up before this last event arrives.
        await store.appendToStream(stream, [events[4]!], { expectedRevision: 3n });
        await probe.waitForRelevant(5);
        await subscription.close();
        await withTimeout(probe.ended, timeoutMs, 'the subscription to end after close()');

        expect(probe.relevant.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(probe.relevant.map((e) => e.revision)).toEqual([0n, 1n, 2n, 3n, 4n]);
        expect(probe.relevant.map((e) => e.data)).toEqual(events.map((e) => e.data));
        expect(probe.delivered.every((e) => e.position > start)).toBe(true);
        expectStrictlyIncreasing(probe.delivered.map((e) => e.position));
      });

      it('starts strictly after a middle position', async () => {
        const stream = uniqueStream('sub-middle');
        const events = [newEvent(), newEvent(), newEvent()];
        const results: AppendResult[] = [];
        for (const [index, event] of events.entries()) {
          results.push(
            await store.appendToStream(stream, [event], {
              expectedRevision: index === 0 ? 'no-stream' : BigInt(index - 1),
            }),
          );
        }
        const subscription = store.subscribeToAll({ after: results[0]!.position });
        const probe = probeSubscription(subscription, (e) => e.streamName === stream, timeoutMs);

        await probe.waitForRelevant(2);
        await subscription.close();
        await withTimeout(probe.ended, timeoutMs, 'the subscription to end after close()');

        expect(probe.relevant.map((e) => e.id)).toEqual([events[1]!.id, events[2]!.id]);
        expect(probe.delivered.every((e) => e.position > results[0]!.position)).toBe(true);
      });

      it('ends an iteration that is waiting for new events when closed', async () => {
        const start = await markLogPosition(store);
        const subscription = store.subscribeToAll({ after: start });
        const probe = probeSubscription(subscription, () => true, timeoutMs);
        // Let the loop catch up and park waiting for the next event.
        await new Promise((resolve) => setTimeout(resolve, 100));

        await subscription.close();

        await withTimeout(probe.ended, timeoutMs, 'the waiting subscription to end after close()');
      });

      it('ends when the consumer breaks out of the loop', async () => {
        const start = await markLogPosition(store);
        const stream = uniqueStream('sub-break');
        await store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
        const subscription = store.subscribeToAll({ after: start });

        const first = await withTimeout(
          (async () => {
            for await (const event of subscription) {
              if (event.streamName === stream) return event;
            }
            return undefined;
          })(),
          timeoutMs,
          'the first event of the stream',
        );

        expect(first?.revision).toBe(0n);
        await subscription.close();
      });
    });

    describe('ping and close', () => {
      it('answers ping while open', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('reports itself unavailable once closed; closing twice is harmless', async () => {
        await store.close();
        await store.close();

        expect(await captureError(store.ping())).toBeInstanceOf(StoreUnavailableError);
        expect(
          await captureError(
            store.appendToStream(uniqueStream('closed'), [newEvent()], { expectedRevision: 'any' }),
          ),
        ).toBeInstanceOf(StoreUnavailableError);
      });
    });
  });
}
