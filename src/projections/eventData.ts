import { policyKind, twoFactorKind } from '../application/aggregates.ts';
import { type EventSchema, fromRecordedEvent } from '../application/storedEvent.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import type { RecordedEvent } from '../eventStore/eventStore.ts';

export type EventData = Readonly<Record<string, unknown>>;

const SCHEMAS: readonly EventSchema[] = [twoFactorKind, policyKind];

/**
 * The event's data as the domain reads it today (upcast from the version it was written
 * with), so projections see one shape per type; as stored for a type no schema knows.
 */
export function currentData(recorded: RecordedEvent): EventData {
  const schema = SCHEMAS.find((candidate) => candidate.currentVersions[recorded.type] !== undefined);
  if (schema === undefined) return recorded.data;
  try {
    return fromRecordedEvent<AnyEvent>(recorded, schema).data as EventData;
  } catch {
    return recorded.data;
  }
}

export const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Number of codes in a recovery code set as stored (its digests are never read further). */
export const recoveryCodeCount = (set: unknown): number | null => {
  const digests = (set as { digests?: unknown } | null | undefined)?.digests;
  return Array.isArray(digests) ? digests.length : null;
};
