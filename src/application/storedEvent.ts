import { randomUUID } from 'node:crypto';
import { chainHash, HASH_KEY } from '../audit/hashChain.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import { type UpcasterRegistry, upcast } from '../domain/shared/upcast.ts';
import type { EventToAppend, JsonObject, RecordedEvent } from '../eventStore/eventStore.ts';

/** How one aggregate's events are read back: their current versions and upcasters. */
export type EventSchema = {
  readonly currentVersions: Readonly<Record<string, number>>;
  readonly upcasters: UpcasterRegistry;
};

/** A domain event as stored: metadata gains the chain hash; the schema version is already there. */
export function toStoredEvents(
  streamName: string,
  firstRevision: bigint,
  previousHash: string,
  events: readonly AnyEvent[],
): { readonly stored: readonly EventToAppend[]; readonly lastHash: string } {
  let hash = previousHash;
  const stored = events.map((event, offset) => {
    const metadata = { ...event.metadata } as JsonObject;
    const data = event.data as JsonObject;
    hash = chainHash({
      previousHash: hash,
      streamName,
      revision: firstRevision + BigInt(offset),
      type: event.type,
      data,
      metadata,
    });
    return { id: randomUUID(), type: event.type, data, metadata: { ...metadata, [HASH_KEY]: hash } };
  });
  return { stored, lastHash: hash };
}

/** A recorded event as the domain reads it today: upcast to the current version of its type. */
export function fromRecordedEvent<E extends AnyEvent>(recorded: RecordedEvent, schema: EventSchema): E {
  const current = schema.currentVersions[recorded.type];
  if (current === undefined) {
    throw new Error(`unknown event type ${recorded.type} at ${recorded.streamName}@${recorded.revision}`);
  }
  const stored = typeof recorded.metadata.schemaVersion === 'number' ? recorded.metadata.schemaVersion : 1;
  const data = upcast(schema.upcasters, recorded.type, recorded.data, stored, current);
  return {
    type: recorded.type,
    data,
    metadata: { ...recorded.metadata, schemaVersion: current },
  } as unknown as E;
}
