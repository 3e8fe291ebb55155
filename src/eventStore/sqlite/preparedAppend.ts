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
  // Checked once, for both stores: ids, types, and data and metadata as JSON objects.
  assertAppendInput(streamName, events, expectedRevision);
  const serialized = events.map((event) => ({
    id: event.id,
    type: event.type,
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(event.metadata),
  }));
  return { streamName, expectedRevision, events: serialized };
}
