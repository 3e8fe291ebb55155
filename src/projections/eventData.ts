import { policyKind, twoFactorKind } from '../application/aggregates.ts';
import { fromRecordedEvent } from '../application/storedEvent.ts';
import { readMetadata } from '../audit/storedMetadata.ts';
import type { TwoFactorRequirementChanged } from '../domain/policy/policy.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import type { JsonObject, RecordedEvent } from '../eventStore/eventStore.ts';
import type { ProjectedEvent } from './projection.ts';

/** What the projections read: the domain's own events, typed. */
export type DomainEvent = TwoFactorEvent | TwoFactorRequirementChanged;

/**
 * The recorded event as the domain reads it today — upcast from the version it was written
 * with, typed — so that projections switch on one shape per type, and a new event type is a
 * compile error wherever it must be handled. Null for a type no schema knows, or data that
 * cannot be read: a projection leaves such an event out rather than stop.
 */
export function domainEventOf(
  recorded: RecordedEvent,
  /** its metadata already read (`readMetadata`), when the caller has it */
  metadata?: JsonObject,
): DomainEvent | null {
  // Own keys only: a type named like an Object.prototype member ("constructor") is no event.
  const kind = Object.hasOwn(twoFactorKind.currentVersions, recorded.type)
    ? twoFactorKind
    : Object.hasOwn(policyKind.currentVersions, recorded.type)
      ? policyKind
      : null;
  if (kind === null) return null;
  try {
    return fromRecordedEvent<DomainEvent>(recorded, kind, metadata);
  } catch {
    return null;
  }
}

/**
 * The recorded event decoded once, for every projection to read (see `ProjectedEvent`): its
 * metadata in the service's own shape whichever version stored it, sealed personal fields of
 * version 2 left packed (`keptSealed` reads either form); a metadata version this build does
 * not know reads as having no field, and its event as unknown.
 */
export function projectedEvent(recorded: RecordedEvent): ProjectedEvent {
  let metadata: JsonObject | null;
  try {
    metadata = readMetadata(recorded.metadata, { keepSealedPacked: true, withoutLink: true });
  } catch {
    metadata = null;
  }
  const event = metadata === null ? null : domainEventOf(recorded, metadata);
  // Field by field: a rest pattern and spreads took V8's slow path, a tenth of a rebuild's time.
  const { id, streamName, revision, position, type, recordedAt } = recorded;
  const read = metadata ?? {};
  return event === null
    ? { id, streamName, revision, position, type, recordedAt, metadata: read, event, data: recorded.data }
    : { id, streamName, revision, position, type, recordedAt, metadata: read, event };
}

/** A 2FA event is one whose type the 2FA schema lists, not merely one that is not a policy event. */
export const isTwoFactorEvent = (event: DomainEvent): event is TwoFactorEvent =>
  Object.hasOwn(TWO_FACTOR_SCHEMA_VERSIONS, event.type);

export const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** For the `default` of an exhaustive switch: a type left out does not compile. */
export function unhandled(event: never): never {
  throw new Error(`an event type no projection handles: ${(event as { type?: unknown }).type}`);
}
