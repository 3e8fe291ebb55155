import type { EventToAppend, ExpectedRevision } from './eventStore.ts';

/*
 * Argument checks of an append, shared by both adapters so a caller's mistake fails the same
 * way on either store: before a batch is shared (SQLite) or anything goes on the wire
 * (EventStoreDB, which would answer some with an opaque gRPC error and accept an empty
 * append as a no-op with no position to report).
 */

// EventStoreDB stores event ids as UUIDs: both adapters refuse anything else, so they stay interchangeable.
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The port is also called from plain JS (CLI tooling); a number here would never match. */
export function assertExpectedRevision(value: unknown): asserts value is ExpectedRevision {
  if (value === 'any' || value === 'no-stream') return;
  if (typeof value === 'bigint' && value >= 0n) return;
  throw new TypeError(
    `expectedRevision must be 'no-stream', 'any' or a bigint >= 0n, got ${
      typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)
    }`,
  );
}

export function assertAppendInput(
  streamName: string,
  events: readonly EventToAppend[],
  expectedRevision: unknown,
): asserts expectedRevision is ExpectedRevision {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('streamName must be a non-empty string');
  }
  // EventStoreDB keeps `$` names for itself ($all, $et-…, metadata streams $$…): such a
  // stream is hidden from the reads of $all the projections rely on, and such an event type
  // is dropped as a system event. Refused on both stores, so they stay interchangeable.
  if (streamName.startsWith('$')) {
    throw new TypeError(`stream ${streamName}: names starting with "$" are reserved for the store`);
  }
  assertExpectedRevision(expectedRevision);
  if (!Array.isArray(events) || events.length === 0) {
    throw new TypeError(`stream ${streamName}: an append needs at least one event`);
  }
  const seen = new Set<string>();
  for (const event of events) {
    if (typeof event.id !== 'string' || !uuidPattern.test(event.id)) {
      throw new TypeError(`stream ${streamName}: event id ${JSON.stringify(event.id)} is not a UUID`);
    }
    if (seen.has(event.id.toLowerCase())) {
      throw new TypeError(`stream ${streamName}: event id ${event.id} appears twice in one append`);
    }
    seen.add(event.id.toLowerCase());
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new TypeError(`stream ${streamName}: event ${event.id} has no type`);
    }
    if (event.type.startsWith('$')) {
      throw new TypeError(
        `stream ${streamName}: event type ${event.type} starts with "$", reserved for the store`,
      );
    }
    for (const [what, value] of [
      ['data', event.data],
      ['metadata', event.metadata],
    ] as const) {
      if (!isJsonObject(value)) {
        throw new TypeError(`stream ${streamName}: event ${event.id} ${what} must be a JSON object`);
      }
      try {
        JSON.stringify(value);
      } catch (cause) {
        throw new TypeError(`stream ${streamName}: event ${event.id} ${what} is not JSON-serializable`, {
          cause,
        });
      }
    }
  }
}
