import { randomUUID } from 'node:crypto';
import { EventStoreDBClient, jsonEvent } from '@eventstore/db-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { StoreUnavailableError, StreamDeletedError } from '../../src/eventStore/eventStore.ts';
import { describeOnEventStoreDb } from '../support/eventStoreDb.ts';
import { collect, markLogPosition, newEvent, uniqueStream } from './eventStoreTestKit.ts';

/*
 * What only EventStoreDB can do to the adapter, on a real server: an operator deleting a
 * stream, and a close() while appends are on the wire. (The shared behaviour is the contract
 * suite's, esdb.int.test.ts.)
 */

await describeOnEventStoreDb(
  'EventStoreDB server-specific tests',
  'EventStoreDB adapter on a real server',
  (server) => {
    let operator: EventStoreDBClient;

    beforeAll(() => {
      operator = EventStoreDBClient.connectionString(server.connectionString);
    });

    afterAll(async () => {
      await operator?.dispose();
    });

    const withStore = async (use: (store: ReturnType<typeof openEsdbEventStore>) => Promise<void>) => {
      const store = openEsdbEventStore(server.connectionString);
      try {
        await use(store);
      } finally {
        await store.close();
      }
    };

    it('fails reads and appends of a tombstoned stream with StreamDeletedError', async () => {
      await withStore(async (store) => {
        const stream = uniqueStream('tombstoned');
        await store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
        await operator.tombstoneStream(stream);

        await expect(collect(store.readStream(stream))).rejects.toMatchObject({
          name: 'StreamDeletedError',
          how: 'tombstoned',
          streamName: stream,
        });
        for (const expectedRevision of ['no-stream', 1n, 'any'] as const) {
          await expect(
            store.appendToStream(stream, [newEvent()], { expectedRevision }),
          ).rejects.toBeInstanceOf(StreamDeletedError);
        }
      });
    });

    it('reads a soft-deleted stream as empty and refuses to recreate it under its old numbering', async () => {
      await withStore(async (store) => {
        const stream = uniqueStream('soft-deleted');
        await store.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
        await operator.deleteStream(stream);

        expect(await collect(store.readStream(stream))).toEqual([]);
        await expect(
          store.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
        ).rejects.toMatchObject({ name: 'StreamDeletedError', how: 'soft-deleted' });
        expect(await collect(store.readStream(stream))).toEqual([]);
      });
    });

    it('answers every append in flight during close() with a result or StoreUnavailableError', async () => {
      const store = openEsdbEventStore(server.connectionString);
      await store.ping();
      const appends = Array.from({ length: 40 }, () =>
        store.appendToStream(uniqueStream('closing'), [newEvent()], { expectedRevision: 'no-stream' }).then(
          () => 'written',
          (error: unknown) => (error instanceof StoreUnavailableError ? 'unavailable' : error),
        ),
      );
      await store.close();

      const outcomes = await Promise.all(appends);
      expect(outcomes.filter((outcome) => outcome !== 'written' && outcome !== 'unavailable')).toEqual([]);
    });

    it('reads $all without the link events of the standard projections', async () => {
      await withStore(async (store) => {
        const marker = await markLogPosition(store);
        const stream = uniqueStream('links');
        // A correlation id: $by_correlation_id links it into a $bc- stream, $by_category and
        // $by_event_type link it too, when the standard projections run.
        await store.appendToStream(stream, [newEvent({}, { correlationId: randomUUID() })], {
          expectedRevision: 'no-stream',
        });
        await operator.appendToStream(`${stream}-raw`, jsonEvent({ type: 'Probed', data: {} }));

        const read = await collect(store.readAll({ after: marker }));

        expect(read.every((event) => !event.streamName.startsWith('$') && !event.type.startsWith('$'))).toBe(
          true,
        );
        expect(
          read.filter((event) => event.streamName.startsWith(stream)).map((event) => event.streamName),
        ).toEqual([stream, `${stream}-raw`]);
      });
    });
  },
);
