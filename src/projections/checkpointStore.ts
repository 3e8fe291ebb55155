import type Database from 'better-sqlite3';
import { type EventStore, type RecordedEvent, StoreUnavailableError } from '../eventStore/eventStore.ts';
import type { Projection } from './projection.ts';

/*
 * The checkpoints of the projections: one row each in the read models' database, written in
 * the same transaction as the rows its events produced.
 */

export type ProjectionStatus = {
  readonly name: string;
  readonly version: number;
  /** the last position applied, decimal ("0": nothing yet) */
  readonly position: string;
  /** events in the log after `position`; null when the log could not be read */
  readonly lagEvents: number | null;
};

export type CheckpointRow = {
  name: string;
  version: number;
  position: string;
  event_id: string | null;
  previous_position: string | null;
};

export type CheckpointStatements = {
  readonly read: Database.Statement<[string], CheckpointRow>;
  readonly write: Database.Statement<[string, number, string, string | null, string | null]>;
};

const CHECKPOINTS_TABLE = 'projection_checkpoints';

/**
 * Makes the checkpoint table what this build writes and prepares its statements. Only a
 * runner holding the read models' lock may call it: the statements write.
 */
export function openCheckpoints(db: Database.Database): CheckpointStatements {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${CHECKPOINTS_TABLE} (
      name TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      position TEXT NOT NULL,
      event_id TEXT,
      previous_position TEXT
    ) WITHOUT ROWID;
  `);
  // Read models written before checkpoints named their event: the columns are added
  // empty, and such checkpoints are rebuilt (they cannot be checked against the log).
  const columns = new Set(
    db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${CHECKPOINTS_TABLE}')`)
      .all()
      .map((column) => column.name),
  );
  for (const column of ['event_id', 'previous_position']) {
    if (!columns.has(column)) db.exec(`ALTER TABLE ${CHECKPOINTS_TABLE} ADD COLUMN ${column} TEXT`);
  }
  return {
    read: db.prepare(
      `SELECT name, version, position, event_id, previous_position FROM ${CHECKPOINTS_TABLE} WHERE name = ?`,
    ),
    write: db.prepare(
      `INSERT INTO ${CHECKPOINTS_TABLE} (name, version, position, event_id, previous_position)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position,
         event_id = excluded.event_id, previous_position = excluded.previous_position`,
    ),
  };
}

/**
 * Checkpoints as committed, with the number of log events after each, read from `db` (null:
 * no read-model file yet, everything at zero) without changing anything. `strict`: a store
 * that does not answer throws (StoreUnavailableError) instead of giving lags of null.
 */
export async function readStatuses(
  db: Database.Database | null,
  store: EventStore,
  projections: readonly Projection[],
  options: { readonly strict?: boolean } = {},
): Promise<ProjectionStatus[]> {
  const exists =
    db !== null &&
    db
      .prepare<[string], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(CHECKPOINTS_TABLE) !== undefined;
  const read = exists
    ? db.prepare<[string], { version: number; position: string }>(
        `SELECT version, position FROM ${CHECKPOINTS_TABLE} WHERE name = ?`,
      )
    : null;
  const checkpoints = projections.map((projection) => ({ projection, row: read?.get(projection.name) }));
  const positions = checkpoints.map(({ row }) => (row === undefined ? 0n : BigInt(row.position)));
  let lags: number[] | null = positions.map(() => 0);
  try {
    let lowest = positions[0] ?? 0n;
    for (const position of positions) if (position < lowest) lowest = position;
    for await (const event of store.readAll({ after: lowest })) {
      positions.forEach((position, index) => {
        if (event.position > position) lags![index]! += 1;
      });
    }
  } catch (error) {
    if (options.strict && error instanceof StoreUnavailableError) throw error;
    lags = null;
  }
  return checkpoints.map(({ projection, row }, index) => ({
    name: projection.name,
    version: row?.version ?? projection.version,
    position: positions[index]!.toString(),
    lagEvents: lags === null ? null : lags[index]!,
  }));
}

export type VersionComparison = {
  /** written by a newer build: refused, unless an operator rebuilds them on purpose */
  readonly newer: readonly { name: string; stored: number; known: number }[];
  /** written by this build's version: kept */
  readonly current: readonly Projection[];
  /** older than the code, or without a checkpoint (`stored` null): rebuilt from zero */
  readonly stale: readonly { projection: Projection; stored: number | null }[];
};

/** Each projection's stored version against its code's. */
export function compareVersions(
  statements: CheckpointStatements,
  projections: readonly Projection[],
): VersionComparison {
  const newer: { name: string; stored: number; known: number }[] = [];
  const current: Projection[] = [];
  const stale: { projection: Projection; stored: number | null }[] = [];
  for (const projection of projections) {
    const stored = statements.read.get(projection.name)?.version ?? null;
    if (stored === null || stored < projection.version) stale.push({ projection, stored });
    else if (stored === projection.version) current.push(projection);
    else newer.push({ name: projection.name, stored, known: projection.version });
  }
  return { newer, current, stale };
}

export type OffLogCheckpoints = {
  /** written before checkpoints named their event: cannot be checked, so rebuilt */
  readonly legacy: readonly Projection[];
  /** the log does not hold the event the checkpoint names */
  readonly mismatched: readonly { projection: Projection; position: string; reason: string }[];
};

/**
 * Each checkpoint of `projections` must name an event of this log: the first event after
 * its recorded previous position has its position and id (ids are UUIDs, unique per store).
 * Positions alone cannot tell: a restored store reuses them for new events, and a checkpoint
 * may lie beyond a shorter log's head. Returns the checkpoints that are not on the log.
 */
export async function findCheckpointsOffLog(
  statements: CheckpointStatements,
  store: EventStore,
  projections: readonly Projection[],
): Promise<OffLogCheckpoints> {
  const verdicts = new Map<string, string | null>();
  const legacy: Projection[] = [];
  const mismatched: { projection: Projection; position: string; reason: string }[] = [];
  for (const projection of projections) {
    const row = statements.read.get(projection.name);
    if (row === undefined || row.position === '0') continue;
    if (row.event_id === null || row.previous_position === null) {
      legacy.push(projection);
      continue;
    }
    const key = `${row.previous_position}:${row.position}:${row.event_id}`;
    if (!verdicts.has(key)) {
      verdicts.set(
        key,
        await checkOnLog(store, BigInt(row.previous_position), BigInt(row.position), row.event_id),
      );
    }
    const reason = verdicts.get(key)!;
    if (reason !== null) mismatched.push({ projection, position: row.position, reason });
  }
  return { legacy, mismatched };
}

/** null when the event is where the checkpoint says; otherwise why not. */
async function checkOnLog(
  store: EventStore,
  previous: bigint,
  position: bigint,
  eventId: string,
): Promise<string | null> {
  let found: RecordedEvent | undefined;
  try {
    for await (const event of store.readAll({ after: previous, maxCount: 1 })) {
      found = event;
      break;
    }
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    // The store answers but cannot read from a position it once gave: not the same log.
    return `the log cannot be read from position ${previous} (${error instanceof Error ? error.name : 'error'})`;
  }
  if (found === undefined) return `the log ends before position ${position}`;
  if (found.position !== position || found.id !== eventId) {
    return `the log has event ${found.id} at position ${found.position} where event ${eventId} at position ${position} was applied`;
  }
  return null;
}
