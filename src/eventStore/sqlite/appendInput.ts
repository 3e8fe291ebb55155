import type { EventToAppend, ExpectedRevision } from '../eventStore.ts';
import { assertExpectedRevision } from './expectedRevision.ts';

export type SerializedEvent = {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
};

/** An append checked and serialized up front, so a bad one fails alone and never inside a shared batch. */
export type PreparedAppend = {
  readonly streamName: string;
  readonly expectedRevision: ExpectedRevision;
  readonly events: readonly SerializedEvent[];
};

// The EventStoreDB adapter only accepts UUIDs; refusing anything else here keeps both adapters interchangeable.
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function prepareAppend(
  streamName: string,
  events: readonly EventToAppend[],
  expectedRevision: ExpectedRevision,
): PreparedAppend {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new TypeError('streamName must be a non-empty string');
  }
  assertExpectedRevision(expectedRevision);
  if (!Array.isArray(events) || events.length === 0) {
    // An empty append has no position to report and would make a retry indistinguishable from a no-op.
    throw new TypeError(`stream ${streamName}: an append needs at least one event`);
  }
  const seen = new Set<string>();
  const serialized = events.map((event) => {
    if (typeof event.id !== 'string' || !uuidPattern.test(event.id)) {
      throw new TypeError(`stream ${streamName}: event id ${JSON.stringify(event.id)} is not a UUID`);
    }
    if (seen.has(event.id)) {
      throw new TypeError(`stream ${streamName}: event id ${event.id} appears twice in one append`);
    }
    seen.add(event.id);
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new TypeError(`stream ${streamName}: event ${event.id} has no type`);
    }
    return {
      id: event.id,
      type: event.type,
      data: toJsonObjectText(event.data, `stream ${streamName}: event ${event.id} data`),
      metadata: toJsonObjectText(event.metadata, `stream ${streamName}: event ${event.id} metadata`),
    };
  });
  return { streamName, expectedRevision, events: serialized };
}

function toJsonObjectText(value: unknown, what: string): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be a JSON object`);
  }
  try {
    return JSON.stringify(value);
  } catch (cause) {
    throw new TypeError(`${what} is not JSON-serializable`, { cause });
  }
}
