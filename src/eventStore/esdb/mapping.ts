import {
  ANY,
  type AppendExpectedRevision,
  type CurrentRevision,
  type RecordedEvent as EsdbRecordedEvent,
  NO_STREAM,
  type Position,
  type ReadPosition,
  START,
} from '@eventstore/db-client';
import { readMetadata } from '../../audit/storedMetadata.ts';
import type { ExpectedRevision, JsonObject, RecordedEvent } from '../eventStore.ts';

/*
 * Pure translations between the port and @eventstore/db-client 6.2.1. No I/O here, so each
 * rule is unit-tested without a server.
 */

export function toEsdbExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'no-stream') return NO_STREAM;
  if (expected === 'any') return ANY;
  return expected;
}

/** WrongExpectedVersionError.actualVersion is a revision or the client's `"no_stream"`. */
export function toPortActualRevision(actual: CurrentRevision | AppendExpectedRevision): bigint | 'no-stream' {
  return typeof actual === 'bigint' ? actual : 'no-stream';
}

/*
 * Positions.
 *
 * EventStoreDB addresses a place in its log with two numbers, commit and prepare. Every append
 * through gRPC (this client's only protocol; the retired TCP protocol was the only way to
 * open an explicit transaction) is written as prepare records flagged IsCommitted, one per
 * event, without a separate commit record (StorageWriterService.WritePrepares). For those
 * the server reports commit === prepare === the event's own log position:
 * AllReader.ReadAllEventsForward builds them as `new CommitEventRecord(eventRecord,
 * eventRecord.LogPosition)`, and the answer to an append is the log position of its last
 * event (StorageChaser acks the TransactionEnd record; WriteEvents replies `CommitPosition,
 * CommitPosition`), all in EventStore/EventStore. So one bigint, the commit position,
 * identifies every event this service can write, and keeps $all order.
 *
 * Only explicit transactions (legacy TCP clients) produced commit !== prepare: all events of
 * one transaction share one commit position, which a single number cannot tell apart. Such
 * events are refused loudly (see positionOf) instead of being skipped or repeated silently.
 */

/** The two-part position of an event whose commit and prepare positions are both `position`. */
export function toEsdbPosition(position: bigint): Position {
  return { commit: position, prepare: position };
}

/** Where to start a read of `$all` so that the event at `after` is the first candidate. */
export function readAllStart(after: bigint | undefined): ReadPosition {
  // 0n is never a real position (the port's contract); log position 0 holds the first
  // chunk's epoch record, not an event, so START is exactly "after 0".
  return after === undefined || after <= 0n ? START : toEsdbPosition(after);
}

export class UnaddressablePositionError extends Error {
  override readonly name = 'UnaddressablePositionError';
}

/**
 * What the server sends where it has no position: -1 as an unsigned 64-bit number
 * (`Position.FromInt64(-1, -1)` in Streams.Read.cs). Client 6.2.1 passes it on as a real
 * position, and fills `event.position` even when the server sent nothing at all, with the
 * protobuf default 0/0. Neither is a place in the log.
 */
export const NO_POSITION = 2n ** 64n - 1n;

function isAbsent(commit: bigint, prepare: bigint): boolean {
  return commit === NO_POSITION || prepare === NO_POSITION || (commit === 0n && prepare === 0n);
}

/** The commit position the server reported for an append, or undefined when it reported none. */
export function appendedPosition(position: Position | undefined): bigint | undefined {
  if (position === undefined || isAbsent(position.commit, position.prepare)) return undefined;
  return position.commit;
}

/**
 * The port's position of an event read from EventStoreDB, or undefined when the server did
 * not say.
 *
 * Reads of `$all` always carry it. Reads of one stream carry it only on servers from 22.6
 * on, and then only for events the server knows were committed where they were written
 * (ResolvedEvent.CalculatePosition: an event "committed itself"); elsewhere the server sends
 * NO_POSITION. The resolved event's `commitPosition` (the original event's, for reads that do
 * not resolve links) is the next best source. The caller finds the rest another way.
 */
export function positionOf(event: EsdbRecordedEvent, commitPosition?: bigint): bigint | undefined {
  const position = event.position;
  if (position !== undefined && !isAbsent(position.commit, position.prepare)) {
    if (position.commit !== position.prepare) {
      throw new UnaddressablePositionError(
        `event ${event.id} in ${event.streamId} was written in an explicit transaction ` +
          `(commit ${position.commit}, prepare ${position.prepare}); this adapter addresses ` +
          'events by one position and supports only events written by ordinary appends',
      );
    }
    return position.commit;
  }
  if (commitPosition !== undefined && commitPosition !== NO_POSITION && commitPosition !== 0n) {
    return commitPosition;
  }
  return undefined;
}

/** The position of an event read from `$all`, where the server always gives one. */
export function allPositionOf(event: EsdbRecordedEvent, commitPosition?: bigint): bigint {
  const position = positionOf(event, commitPosition);
  if (position === undefined) {
    throw new UnaddressablePositionError(
      `EventStoreDB did not report the log position of event ${event.id} in ${event.streamId} read from $all`,
    );
  }
  return position;
}

/** What became of an append the client answered without throwing. */
export type AppendOutcome =
  | {
      readonly kind: 'appended';
      readonly nextExpectedRevision: bigint;
      readonly position: bigint | undefined;
    }
  | { readonly kind: 'refused' };

/**
 * The client answers a wrong-expected-version append with `{ success: false, position:
 * undefined }` instead of throwing whenever its throwOnAppendFailure is off; its
 * nextExpectedRevision is then not the stream's revision (-1n, or 1n for any existing stream
 * through batch appends). Whatever the setting, such an answer is a refusal, never a write.
 */
export function appendOutcome(result: {
  readonly success: boolean;
  readonly nextExpectedRevision: bigint;
  readonly position?: Position | undefined;
}): AppendOutcome {
  if (result.success !== true) return { kind: 'refused' };
  return {
    kind: 'appended',
    nextExpectedRevision: result.nextExpectedRevision,
    position: appendedPosition(result.position),
  };
}

/**
 * Whether stream metadata (as the client's getStreamMetadata returns it) marks the stream
 * soft-deleted: `$tb` is EventNumber.DeletedStream, long.MaxValue, which JSON parsing rounds
 * to 2^63.
 */
export function isSoftDeletedMetadata(metadata: { readonly truncateBefore?: unknown } | undefined): boolean {
  const truncateBefore = metadata?.truncateBefore;
  return typeof truncateBefore === 'number' && truncateBefore >= 2 ** 63;
}

/*
 * Correlation and causation.
 *
 * EventStoreDB's own tools read `$correlationId` and `$causationId` from event metadata: the
 * standard projection `$by_correlation_id` links events by `$correlationId` into
 * `$bc-<id>` streams, and the UI draws causation chains from `$causationId`
 * (eventstore.com/blog/eventstoredb-visualise-tab). The domain names them `correlationId`
 * and `causationId`, so the adapter adds the `$` twins on write and removes them on read:
 * callers get back exactly the metadata they wrote, as from the embedded store.
 */
const TWINS = [
  ['correlationId', '$correlationId'],
  ['causationId', '$causationId'],
] as const;

/** The correlation and causation ids of stored metadata, of either version. */
function tracingIds(metadata: JsonObject): JsonObject {
  try {
    return readMetadata(metadata);
  } catch {
    return {};
  }
}

export function withEsdbTracingMetadata(metadata: JsonObject): JsonObject {
  const written: Record<string, unknown> = { ...metadata };
  const ids = tracingIds(metadata);
  for (const [domainKey, esdbKey] of TWINS) {
    const value = ids[domainKey];
    // A caller that sets the `$` key itself keeps its own value.
    if (typeof value === 'string' && !(esdbKey in metadata)) written[esdbKey] = value;
  }
  return written;
}

export function withoutEsdbTracingMetadata(metadata: JsonObject): JsonObject {
  const read: Record<string, unknown> = { ...metadata };
  const ids = tracingIds(metadata);
  for (const [domainKey, esdbKey] of TWINS) {
    // Remove only what withEsdbTracingMetadata could have added: a copy of the domain key.
    if (esdbKey in read && read[esdbKey] === ids[domainKey]) delete read[esdbKey];
  }
  return read;
}

/** EventStoreDB's own events: `$`-prefixed types ($metadata, $>, $statsCollected…) or streams. */
export function isSystemEvent(event: { readonly streamId: string; readonly type: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

function isJsonObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function asJsonObject(value: unknown, what: string, event: EsdbRecordedEvent): JsonObject {
  let candidate = value;
  // The client hands back the raw bytes when a payload was not flagged as, or is not, JSON.
  if (candidate instanceof Uint8Array) {
    try {
      candidate = JSON.parse(Buffer.from(candidate).toString('utf8'));
    } catch {
      // reported below
    }
  }
  if (!isJsonObject(candidate)) {
    throw new TypeError(`${what} of event ${event.id} in ${event.streamId} is not a JSON object`);
  }
  return candidate;
}

/**
 * An event as the port returns it.
 *
 * `created` is already a Date in client 6.x: the server sends .NET ticks (100 ns) since the
 * Unix epoch and the client divides by 10 000 (convertGrpcEvent.js), so `recordedAt` has
 * millisecond precision, like the embedded store's.
 */
export function toRecordedEvent(event: EsdbRecordedEvent, position: bigint): RecordedEvent {
  return {
    id: event.id,
    streamName: event.streamId,
    revision: event.revision,
    position,
    type: event.type,
    data: asJsonObject(event.data, 'data', event),
    // The client returns undefined for empty metadata.
    metadata: withoutEsdbTracingMetadata(
      event.metadata === undefined ? {} : asJsonObject(event.metadata, 'metadata', event),
    ),
    recordedAt: event.created,
  };
}
