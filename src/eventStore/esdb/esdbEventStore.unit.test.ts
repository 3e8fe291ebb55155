import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  StreamDeletedError as EsdbStreamDeletedError,
  EventStoreDBClient,
  UnknownError,
} from '@eventstore/db-client';
import { convertToCommandError } from '@eventstore/db-client/dist/utils/CommandError.js';
import { Metadata } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appendAnswers, resolvedFromServer } from '../../../test/support/esdbServerMessages.ts';
import {
  ConcurrencyConflictError,
  type EventStore,
  StoreUnavailableError,
  StreamDeletedError,
} from '../eventStore.ts';
import { esdbEventStoreOver } from './esdbEventStore.ts';
import { DOMAIN_STREAM_NAME } from './filteredReadAll.ts';

/*
 * The adapter over a real client whose network calls answer with what the client itself
 * produces for a given server answer: its result objects, its converted errors, its readables
 * of converted server messages. Nothing listens on the client's port, so a call that is not
 * answered here fails fast instead of reaching a server.
 */

const settings = { defaultDeadlineMs: 2_000 };
const anEvent = () => ({ id: randomUUID(), type: 'Probed', data: {}, metadata: {} });

/**
 * What grpc-js rejects a call with for the server's RpcException (RpcExceptions.cs); the
 * client converts it with convertToCommandError.
 */
const serviceError = (code: number, details: string, trailers: Record<string, string> = {}) => {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
};

/** A client read: the client's ReadStream is an object-mode readable with cancel(). */
const clientRead = (items: unknown[], error?: Error) => {
  const readable = Readable.from(
    (async function* () {
      yield* items;
      if (error) throw error;
    })(),
    { objectMode: true },
  );
  return Object.assign(readable, { cancel: async () => {} });
};

let client: EventStoreDBClient;
let store: EventStore;

beforeEach(() => {
  client = EventStoreDBClient.connectionString('esdb://127.0.0.1:1?tls=false&defaultDeadline=2000');
  store = esdbEventStoreOver(client, settings);
});

afterEach(async () => {
  await store.close();
  vi.restoreAllMocks();
});

describe('appends the client answers with success: false', () => {
  it('are conflicts reporting the stream’s own revision, never writes', async () => {
    const stream = `s-${randomUUID()}`;
    vi.spyOn(client, 'getStreamMetadata').mockResolvedValue({ streamName: stream });
    // Batch appends report 1n for any existing stream; the stream is really at revision 4.
    vi.spyOn(client, 'appendToStream').mockResolvedValue(appendAnswers.refusedBatch());
    const current = resolvedFromServer({
      streamName: stream,
      id: randomUUID(),
      revision: 4n,
      position: { commit: 700n, prepare: 700n },
      originalCommit: 700n,
    });
    vi.spyOn(client, 'readStream').mockImplementation(() => clientRead([current]) as never);

    const attempt = store.appendToStream(stream, [anEvent()], { expectedRevision: 1n });

    await expect(attempt).rejects.toBeInstanceOf(ConcurrencyConflictError);
    await expect(attempt).rejects.toMatchObject({ streamName: stream, expected: 1n, actual: 4n });
  });

  it("reports 'no-stream' when the stream does not exist", async () => {
    const stream = `s-${randomUUID()}`;
    vi.spyOn(client, 'appendToStream').mockResolvedValue(appendAnswers.refusedUnary('no-stream'));
    const notFound = convertToCommandError(
      serviceError(5, 'Stream not found', { exception: 'stream-not-found', 'stream-name': stream }) as never,
    );
    vi.spyOn(client, 'readStream').mockImplementation(() => clientRead([], notFound as Error) as never);

    await expect(store.appendToStream(stream, [anEvent()], { expectedRevision: 0n })).rejects.toMatchObject({
      name: 'ConcurrencyConflictError',
      actual: 'no-stream',
    });
  });
});

describe('streams deleted by an operator', () => {
  it('fail reads of a tombstoned stream with the port’s StreamDeletedError', async () => {
    const stream = `s-${randomUUID()}`;
    const deleted = convertToCommandError(
      serviceError(9, `Event stream '${stream}' is deleted.`, {
        exception: 'stream-deleted',
        'stream-name': stream,
      }) as never,
    );
    expect(deleted).toBeInstanceOf(EsdbStreamDeletedError);
    vi.spyOn(client, 'readStream').mockImplementation(() => clientRead([], deleted as Error) as never);

    const read = async () => {
      for await (const _ of store.readStream(stream)) {
        // nothing
      }
    };

    await expect(read()).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(read()).rejects.toMatchObject({ streamName: stream, how: 'tombstoned' });
  });

  it('fail appends to a tombstoned stream with the port’s StreamDeletedError', async () => {
    const stream = `s-${randomUUID()}`;
    // What batch appends reject with for the server's StreamDeleted detail (unpackError.js).
    vi.spyOn(client, 'appendToStream').mockRejectedValue(EsdbStreamDeletedError.fromStreamName(stream));

    await expect(store.appendToStream(stream, [anEvent()], { expectedRevision: 3n })).rejects.toMatchObject({
      name: 'StreamDeletedError',
      streamName: stream,
      how: 'tombstoned',
    });
  });

  it('refuse to recreate a soft-deleted stream, which would go on from its old revisions', async () => {
    const stream = `s-${randomUUID()}`;
    // The client parses {"$tb": 9223372036854775807} from the metadata stream.
    const truncateBefore = JSON.parse('{"$tb":9223372036854775807}').$tb as number;
    vi.spyOn(client, 'getStreamMetadata').mockResolvedValue({
      streamName: stream,
      metadata: { truncateBefore },
    });
    const append = vi.spyOn(client, 'appendToStream');

    await expect(
      store.appendToStream(stream, [anEvent()], { expectedRevision: 'no-stream' }),
    ).rejects.toMatchObject({
      name: 'StreamDeletedError',
      how: 'soft-deleted',
    });
    expect(append).not.toHaveBeenCalled();
  });
});

describe('operations in flight when the store closes', () => {
  it('reject as the closed store, not with the client’s UnknownError for its own cancellation', async () => {
    const stream = `s-${randomUUID()}`;
    vi.spyOn(client, 'getStreamMetadata').mockResolvedValue({ streamName: stream });
    let cancel: (error: unknown) => void = () => {};
    vi.spyOn(client, 'appendToStream').mockImplementation(
      () =>
        new Promise((_, reject) => {
          cancel = reject;
        }),
    );
    vi.spyOn(client, 'dispose').mockImplementation(async () => {
      // dispose() cancels the calls in flight; the client reports that as an UnknownError.
      const cancelled = convertToCommandError(serviceError(1, 'Cancelled on client') as never);
      expect(cancelled).toBeInstanceOf(UnknownError);
      cancel(cancelled);
    });

    const inFlight = store.appendToStream(stream, [anEvent()], { expectedRevision: 'no-stream' });
    await vi.waitFor(() => expect(client.appendToStream).toHaveBeenCalled());
    await store.close();

    await expect(inFlight).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(inFlight).rejects.toThrow(/closed/);
  });
});

describe('reads', () => {
  it('ask for the leader: stream reads, the metadata check, pings and subscriptions', async () => {
    const readStream = vi.spyOn(client, 'readStream').mockImplementation(() => clientRead([]) as never);
    const readAll = vi.spyOn(client, 'readAll').mockImplementation(() => clientRead([]) as never);
    const metadata = vi.spyOn(client, 'getStreamMetadata').mockResolvedValue({ streamName: 's' });
    const subscribe = vi.spyOn(client, 'subscribeToAll');
    vi.spyOn(client, 'appendToStream').mockResolvedValue(
      appendAnswers.success(0n, { commit: 10n, prepare: 10n }),
    );

    for await (const _ of store.readStream('s')) {
      // nothing
    }
    await store.ping();
    await store.appendToStream('s', [anEvent()], { expectedRevision: 'no-stream' });
    const subscription = store.subscribeToAll();
    await subscription.close();

    expect(readStream.mock.calls[0]![1]).toMatchObject({ requiresLeader: true });
    expect(readAll.mock.calls[0]![0]).toMatchObject({ requiresLeader: true });
    expect(metadata.mock.calls[0]![1]).toMatchObject({ requiresLeader: true });
    expect(subscribe.mock.calls[0]![0]).toMatchObject({ requiresLeader: true });
  });

  it('of $all ask for the leader too', async () => {
    const callArguments = vi.spyOn(
      client as never as { callArguments: (...args: unknown[]) => unknown },
      'callArguments',
    );
    const read = async () => {
      for await (const _ of store.readAll({ maxCount: 1 })) {
        // nothing listens: fails
      }
    };
    await expect(read()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(callArguments).toHaveBeenCalledWith({ requiresLeader: true }, expect.anything());
  });
});

describe('the subscription to $all', () => {
  it('asks the server for the streams a read of $all gets: no system streams, no key store streams', async () => {
    const subscribe = vi.spyOn(client, 'subscribeToAll');

    const subscription = store.subscribeToAll();
    await subscription.close();

    expect(subscribe.mock.calls[0]![0]).toMatchObject({
      filter: { filterOn: 'streamName', regex: DOMAIN_STREAM_NAME },
    });
  });
});
