import { randomUUID } from 'node:crypto';
import { chainHash } from '../audit/hashChain.ts';
import { readMetadata, storedMetadataOf, withLink } from '../audit/storedMetadata.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import { type UpcasterRegistry, upcast } from '../domain/shared/upcast.ts';
import type { EventToAppend, JsonObject, RecordedEvent } from '../eventStore/eventStore.ts';

/** How one aggregate's events are read back: their current versions and upcasters. */
export type EventSchema = {
  readonly currentVersions: Readonly<Record<string, number>>;
  readonly upcasters: UpcasterRegistry;
};

/**
 * A domain event as stored: its metadata in the stored form (`storedMetadata.ts`, version 2)
 * with the chain link; the schema version is already there.
 */
export function toStoredEvents(
  streamName: string,
  firstRevision: bigint,
  previousHash: string,
  events: readonly AnyEvent[],
): { readonly stored: readonly EventToAppend[]; readonly lastHash: string } {
  let hash = previousHash;
  const stored = events.map((event, offset) => {
    const metadata = storedMetadataOf(event.metadata as JsonObject);
    const data = event.data as JsonObject;
    hash = chainHash({
      previousHash: hash,
      streamName,
      revision: firstRevision + BigInt(offset),
      type: event.type,
      data,
      metadata,
    });
    return { id: randomUUID(), type: event.type, data, metadata: withLink(metadata, hash) };
  });
  return { stored, lastHash: hash };
}

/**
 * A recorded event as the domain reads it today: its data upcast to the current version of
 * its type, its metadata read in the service's own shape whatever version stored it.
 */
export function fromRecordedEvent<E extends AnyEvent>(
  recorded: RecordedEvent,
  schema: EventSchema,
  /** the recorded metadata already read (`readMetadata`), when the caller has it */
  read?: Readonly<Record<string, unknown>>,
): E {
  const current = schema.currentVersions[recorded.type];
  if (current === undefined) {
    throw new Error(`unknown event type ${recorded.type} at ${recorded.streamName}@${recorded.revision}`);
  }
  const metadata = read ?? readMetadata(recorded.metadata);
  const stored = typeof metadata.schemaVersion === 'number' ? metadata.schemaVersion : 1;
  const data = upcast(schema.upcasters, recorded.type, recorded.data, stored, current);
  return { type: recorded.type, data, metadata: { ...metadata, schemaVersion: current } } as unknown as E;
}
