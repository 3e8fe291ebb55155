import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { EventStoreDBClient } from '@eventstore/db-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  appendAnswers,
  resolvedFromServer,
  type ServerEvent,
} from '../../../test/support/esdbServerMessages.ts';
import type { EventStore } from '../eventStore.ts';
import { esdbEventStoreOver } from './esdbEventStore.ts';
import { readAllFiltered } from './filteredReadAll.ts';

/*
 * Servers before 22.6 send no position with a stream read, and 24.10 none for an event that
 * was not committed on its own: the client passes on 2^64-1. The adapter finds such events
 * in $all, between the positions it does know.
 */

vi.mock('./filteredReadAll.ts', () => ({ readAllFiltered: vi.fn() }));

const clientRead = (items: unknown[]) =>
  Object.assign(Readable.from(items, { objectMode: true }), { cancel: async () => {} });

const stream = `s-${randomUUID()}`;
const other = `o-${randomUUID()}`;
const ids = Array.from({ length: 4 }, () => randomUUID());
// The log: the stream's four events, with another stream's event between.
const log: ServerEvent[] = [
  { streamName: stream, id: ids[0]!, revision: 0n, position: { commit: 100n, prepare: 100n } },
  { streamName: other, id: randomUUID(), revision: 0n, position: { commit: 200n, prepare: 200n } },
  { streamName: stream, id: ids[1]!, revision: 1n, position: { commit: 300n, prepare: 300n } },
  { streamName: stream, id: ids[2]!, revision: 2n, position: { commit: 400n, prepare: 400n } },
  { streamName: stream, id: ids[3]!, revision: 3n, position: { commit: 500n, prepare: 500n } },
].map((event) => ({ ...event, originalCommit: (event.position as { commit: bigint }).commit }));

/** The stream read as the server answers it: only the events in `known` carry a position. */
const streamRead = (known: ReadonlySet<number>, fromRevision = 0n) =>
  log
    .filter((event) => event.streamName === stream && event.revision >= fromRevision)
    .map((event) =>
      resolvedFromServer(
        known.has(Number(event.revision)) ? event : { ...event, position: 'unknown', originalCommit: 'none' },
      ),
    );

let client: EventStoreDBClient;
let store: EventStore;

beforeEach(() => {
  client = EventStoreDBClient.connectionString('esdb://127.0.0.1:1?tls=false');
  store = esdbEventStoreOver(client, { defaultDeadlineMs: 2_000 });
  vi.mocked(readAllFiltered).mockReset();
  vi.mocked(readAllFiltered).mockImplementation((_client, { fromPosition }) => {
    const from = fromPosition === 'start' ? 0n : fromPosition === 'end' ? 2n ** 64n : fromPosition.commit;
    return clientRead(
      log
        .filter((event) => (event.position as { commit: bigint }).commit >= from)
        .map((event) => resolvedFromServer(event)),
    ) as never;
  });
});

afterEach(async () => {
  await store.close();
  vi.restoreAllMocks();
});

const positions = async (fromRevision?: bigint) => {
  const read: bigint[] = [];
  for await (const event of store.readStream(stream, { fromRevision })) read.push(event.position);
  return read;
};

describe('stream reads without positions', () => {
  it('find every position in $all when the server sent none', async () => {
    vi.spyOn(client, 'readStream').mockImplementation(() => clientRead(streamRead(new Set())) as never);

    expect(await positions()).toEqual([100n, 300n, 400n, 500n]);
  });

  it('find the missing ones between the known ones (24.10: only events committed alone)', async () => {
    vi.spyOn(client, 'readStream').mockImplementation(() => clientRead(streamRead(new Set([0, 3]))) as never);

    expect(await positions()).toEqual([100n, 300n, 400n, 500n]);
    // Read from the known position before them, not from the start of the log.
    const starts = vi.mocked(readAllFiltered).mock.calls.map(([, options]) => options.fromPosition);
    expect(starts).toEqual([{ commit: 100n, prepare: 100n }]);
  });

  it('start the search at the event before a middle revision', async () => {
    vi.spyOn(client, 'readStream').mockImplementation((_, options) => {
      const from = (options?.fromRevision ?? 0n) as bigint;
      // The event before revision 2 carries its position; the rest do not.
      return clientRead(streamRead(from === 1n ? new Set([1]) : new Set(), from)) as never;
    });

    expect(await positions(2n)).toEqual([400n, 500n]);
    const starts = vi.mocked(readAllFiltered).mock.calls.map(([, options]) => options.fromPosition);
    expect(starts).toEqual([{ commit: 300n, prepare: 300n }]);
  });

  it('give an append answered without a position the position of its last event', async () => {
    vi.spyOn(client, 'getStreamMetadata').mockResolvedValue({ streamName: stream });
    vi.spyOn(client, 'appendToStream').mockResolvedValue(appendAnswers.success(3n, undefined));
    vi.spyOn(client, 'readStream').mockImplementation((_, options) => {
      const from = (options?.fromRevision ?? 0n) as bigint;
      return clientRead(streamRead(new Set(), from).slice(0, 1)) as never;
    });

    const result = await store.appendToStream(
      stream,
      [{ id: randomUUID(), type: 'Probed', data: {}, metadata: {} }],
      { expectedRevision: 2n },
    );

    expect(result).toEqual({ nextExpectedRevision: 3n, position: 500n });
  });
});
