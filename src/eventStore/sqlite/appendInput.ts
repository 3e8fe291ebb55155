import { assertAppendInput } from '../appendInput.ts';
import type { EventToAppend, ExpectedRevision } from '../eventStore.ts';

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

export function prepareAppend(
  streamName: string,
  events: readonly EventToAppend[],
  expectedRevision: ExpectedRevision,
): PreparedAppend {
  assertAppendInput(streamName, events, expectedRevision);
  const serialized = events.map((event) => ({
    id: event.id,
    type: event.type,
    data: toJsonObjectText(event.data, `stream ${streamName}: event ${event.id} data`),
    metadata: toJsonObjectText(event.metadata, `stream ${streamName}: event ${event.id} metadata`),
  }));
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
