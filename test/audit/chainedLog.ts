import { toStoredEvents } from '../../src/application/storedEvent.ts';
import { GENESIS_HASH } from '../../src/audit/hashChain.ts';
import type { AnyEvent } from '../../src/domain/shared/message.ts';
import type { EventStore, RecordedEvent } from '../../src/eventStore/eventStore.ts';

/*
 * Logs hashed exactly as the service appends them, in memory: the verifier's unit tests
 * change them event by event and read them through a store that only implements readAll.
 */

const metadata = {
  correlationId: 'c1',
  causationId: 'c1',
  actor: { role: 'web', id: 'u' },
  schemaVersion: 1,
} as const;

export const domainEvent = (type: string, data: Record<string, unknown>): AnyEvent => ({
  type,
  data,
  metadata,
});

/** A stream's events hashed exactly as the service appends them; `dataOf` gives each one's data. */
export function chainedStream(
  streamName: string,
  count: number,
  dataOf: (revision: number) => Record<string, unknown> = (revision) => ({ n: revision, userId: 'u' }),
): RecordedEvent[] {
  const events = Array.from({ length: count }, (_, i) => domainEvent('Something', dataOf(i)));
  const { stored } = toStoredEvents(streamName, 0n, GENESIS_HASH, events);
  return stored.map((event, i) => ({
    id: event.id,
    streamName,
    revision: BigInt(i),
    position: 0n,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: new Date(0),
  }));
}

/** Interleaves streams into one global log, numbering positions from 1. */
export function globalLog(...streams: RecordedEvent[][]): RecordedEvent[] {
  const log: RecordedEvent[] = [];
  const longest = Math.max(...streams.map((s) => s.length));
  for (let i = 0; i < longest; i++) {
    for (const stream of streams) {
      const event = stream[i];
      if (event) log.push(event);
    }
  }
  return log.map((event, i) => ({ ...event, position: BigInt(i + 1) }));
}

/** Only readAll is used by the verifier. */
export function storeOf(
  log: readonly RecordedEvent[],
  failAfter?: { index: number; error: Error },
): EventStore {
  const unused = () => {
    throw new Error('not used by verifyChain');
  };
  return {
    readAll: () => ({
      async *[Symbol.asyncIterator]() {
        for (const [index, event] of log.entries()) {
          if (failAfter && index === failAfter.index) throw failAfter.error;
          yield event;
        }
      },
    }),
    appendToStream: unused,
    readStream: unused,
    subscribeToAll: unused,
    ping: unused,
    close: async () => {},
  };
}
