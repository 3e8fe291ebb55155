import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { type EventStore, StoreUnavailableError } from '../../src/eventStore/eventStore.ts';

/*
 * Runs without an EventStoreDB server: what the adapter does when there is none, or when
 * one accepts connections but never answers. The contract suite (esdb.int.test.ts) covers
 * the server's side.
 */

const PASSWORD = 'not-in-any-message-9f2c';
const DEADLINE_MS = 1_500;
// Generous: the point is "bounded by the deadline", not a tight timing.
const BOUND_MS = DEADLINE_MS + 1_000 + 3_000;

const anEvent = () => ({ id: randomUUID(), type: 'Probed', data: {}, metadata: { correlationId: 'c' } });

async function failureOf(operation: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await operation();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected the operation to fail');
}

async function drain(items: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of items) {
    // no server: nothing arrives
  }
}

/** A port on which nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function describeUnavailable(title: string, connectionString: () => string) {
  describe(title, () => {
    let store: EventStore;

    beforeAll(() => {
      store = openEsdbEventStore(connectionString());
    });

    afterAll(async () => {
      await store.close();
    });

    const operations: Record<string, () => Promise<unknown>> = {
      appendToStream: () =>
        store.appendToStream(`probe-${randomUUID()}`, [anEvent()], { expectedRevision: 'no-stream' }),
      ping: () => store.ping(),
      readStream: () => drain(store.readStream(`probe-${randomUUID()}`)),
      readAll: () => drain(store.readAll({ maxCount: 10 })),
      subscribeToAll: () => drain(store.subscribeToAll()),
    };

    for (const [name, operation] of Object.entries(operations)) {
      it(`${name} rejects with StoreUnavailableError, in bounded time, naming no credentials`, async () => {
        const { error, ms } = await failureOf(operation);

        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect((error as Error).message).toMatch(/^EventStoreDB unavailable \(/);
        expect((error as Error).message).not.toContain(PASSWORD);
        expect((error as Error).cause).toBeDefined();
        expect(ms).toBeLessThan(BOUND_MS);
      });
    }
  });
}

describe('EventStoreDB adapter without a reachable server', () => {
  let port: number;

  beforeAll(async () => {
    port = await closedPort();
  });

  describeUnavailable(
    'nothing listens (connection refused)',
    () => `esdb://admin:${PASSWORD}@127.0.0.1:${port}?tls=false&defaultDeadline=${DEADLINE_MS}`,
  );

  it('maps the raw gRPC UNAVAILABLE error (code 14) of a refused append and keeps it as the cause', async () => {
    const store = openEsdbEventStore(`esdb://127.0.0.1:${port}?tls=false&defaultDeadline=${DEADLINE_MS}`);
    try {
      const { error } = await failureOf(() =>
        store.appendToStream(`probe-${randomUUID()}`, [anEvent()], { expectedRevision: 'any' }),
      );
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error & { cause: { code?: unknown } }).cause.code).toBe(14);
    } finally {
      await store.close();
    }
  });
});

describe('EventStoreDB adapter against a server that accepts connections but never answers', () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let port: number;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  describeUnavailable(
    'silent server',
    () => `esdb://admin:${PASSWORD}@127.0.0.1:${port}?tls=false&defaultDeadline=${DEADLINE_MS}`,
  );
});

describe('a closed EventStoreDB adapter', () => {
  it('refuses every operation with StoreUnavailableError instead of reconnecting', async () => {
    const store = openEsdbEventStore(`esdb://127.0.0.1:${await closedPort()}?tls=false`);
    await store.close();
    await store.close();

    await expect(store.ping()).rejects.toThrow(/closed/);
    await expect(store.appendToStream('s', [anEvent()], { expectedRevision: 'any' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(drain(store.readStream('s'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(drain(store.readAll())).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(() => store.subscribeToAll()).toThrow(StoreUnavailableError);
  });
});
