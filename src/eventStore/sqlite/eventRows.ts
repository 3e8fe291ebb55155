import type { RecordedEvent } from '../eventStore.ts';

/** A row of `events` as read through a statement with safeIntegers(true). */
export type EventRow = {
  readonly position: bigint;
  readonly id: string;
  readonly stream_name: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
};

export const eventColumns = 'position, id, stream_name, revision, type, data, metadata, recorded_at';

/** A row of `events` read with `raw(true)`: its columns in `eventColumns` order. */
export type RawEventRow = readonly [bigint, string, string, bigint, string, string, string, string];

export function fromRawRow(row: RawEventRow): RecordedEvent {
  return {
    id: row[1],
    streamName: row[2],
    revision: row[3],
    position: row[0],
    type: row[4],
    data: JSON.parse(row[5]),
    metadata: JSON.parse(row[6]),
    recordedAt: new Date(row[7]),
  };
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamName: row.stream_name,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    recordedAt: new Date(row.recorded_at),
  };
}
