import type Database from 'better-sqlite3';
import { auditBodyOf, type StoredAuditRecord } from './auditRecord.ts';
import type { Projection } from './projection.ts';
import { cached } from './statementCache.ts';

export type AuditQuery = {
  readonly userId?: string;
  /** ISO time; records recorded at or after it */
  readonly since?: string;
  /** ISO time; records recorded before it */
  readonly until?: string;
  /** a position; records strictly after it */
  readonly after?: bigint;
  /** most records in all; default unlimited */
  readonly limit?: number;
  /** rows read per query; default 500 */
  readonly pageSize?: number;
};

const AUDIT_INDEXES = `
  CREATE INDEX IF NOT EXISTS audit_events_by_user ON audit_events (user_id, position);
  CREATE INDEX IF NOT EXISTS audit_events_by_time ON audit_events (recorded_at, position);
`;

/**
 * One row per event of the log, in log order: the audit history. The position is the row id
 * (SQLite INTEGER, 64-bit, bound and read as bigint so nothing rounds past 2^53); the time,
 * user and type are columns, each filter with an index (by user; by time for
 * `since`/`until`), and the rest of the record is its body (`auditBodyOf`) as JSON, which
 * leaves out an address, agent or erasure mark it does not have; `recordOfRow` reads it back.
 */
export const auditProjection: Projection = {
  name: 'audit',
  // 3: personal fields kept sealed as the event has them, opened when read
  // 4: an erasure also clears the plain-text personal fields of events from before data keys
  // 5: the lockout's events name their factor (app or recovery codes)
  // 6: the ids web calls acted for and the reasons of resets kept sealed; an erasure clears
  //    the plain-text copies of events from before they were
  // 7: the row keeps the record without what its columns hold, nor fields at their default;
  //    sealed fields of metadata version 2 in their packed form
  // 8: the details name the authenticator app an event concerns (a user may have several)
  version: 8,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS audit_events (
        position INTEGER PRIMARY KEY,
        recorded_at TEXT NOT NULL,
        user_id TEXT,
        type TEXT NOT NULL,
        record TEXT NOT NULL
      );
      ${AUDIT_INDEXES}
    `);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS audit_events');
  },
  // A rebuild appends rows in position order: the indexes are built once at the end.
  bulkLoad: {
    before(db) {
      db.exec('DROP INDEX IF EXISTS audit_events_by_user; DROP INDEX IF EXISTS audit_events_by_time;');
    },
    after(db) {
      db.exec(AUDIT_INDEXES);
    },
  },
  apply(db, event) {
    auditProjection.applyBatch!(db, [event]);
  },
  // Rows go in by the hundred, one statement each: a statement's own cost is then shared.
  applyBatch(db, events) {
    let rows: AuditColumns[] = [];
    const insert = () => {
      for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
        const chunk = rows.slice(from, from + ROWS_PER_INSERT);
        // A plain INSERT: applying an event twice is a bug that must fail loudly, not be hidden.
        insertRows(db, chunk.length).run(chunk.flat());
      }
      rows = [];
    };
    for (const event of events) {
      const { userId, body } = auditBodyOf(event);
      rows.push([event.position, event.recordedAt.toISOString(), userId, event.type, JSON.stringify(body)]);
      if (event.type === 'UserErased' && userId !== null) {
        insert();
        clearPlaintextOf(db, userId, event.position);
      }
    }
    insert();
  },
};

type AuditColumns = [bigint, string, string | null, string, string];
const ROWS_PER_INSERT = 100;

const insertRows = (db: Database.Database, count: number) =>
  cached<unknown[]>(
    db,
    `INSERT INTO audit_events (position, recorded_at, user_id, type, record) VALUES ${Array(count).fill('(?, ?, ?, ?, ?)').join(', ')}`,
  );

type AuditRow = {
  position: bigint;
  recorded_at: string;
  user_id: string | null;
  type: string;
  record: string;
};

/** The record a row keeps, put back together with its defaults. */
function recordOfRow(row: AuditRow): StoredAuditRecord {
  const { actor, correlationId, endUserIp, endUserAgent, personalDataErased, details, sealed } = JSON.parse(
    row.record,
  ) as Partial<StoredAuditRecord>;
  return {
    position: row.position.toString(),
    recordedAt: row.recorded_at,
    userId: row.user_id,
    type: row.type,
    actor: actor ?? { role: 'unknown', id: null },
    correlationId: correlationId ?? null,
    endUserIp: endUserIp ?? null,
    endUserAgent: endUserAgent ?? null,
    personalDataErased: personalDataErased ?? false,
    details: details ?? {},
    ...(sealed === undefined ? {} : { sealed }),
  };
}

/**
 * Events written before data keys hold the end user's address and agent in plain text, and
 * events written before they were sealed too the id a web call acted for and a reset's
 * reason, which no key's destruction reaches: on the user's erasure the audit's copies of
 * them are cleared (the log's own stay, as events are never rewritten) and the records read
 * as erased.
 */
function clearPlaintextOf(db: Database.Database, userId: string, erasedAt: bigint): void {
  cached<[string, bigint]>(
    db,
    `UPDATE audit_events
        SET record = json_set(record, '$.endUserIp', NULL, '$.endUserAgent', NULL, '$.personalDataErased', json('true'))
      WHERE user_id = ? AND position < ?
        AND (json_extract(record, '$.endUserIp') IS NOT NULL OR json_extract(record, '$.endUserAgent') IS NOT NULL)`,
  ).run(userId, erasedAt);
  cached<[string, bigint]>(
    db,
    `UPDATE audit_events
        SET record = json_set(record, '$.details.endUserIps', json('[]'), '$.personalDataErased', json('true'))
      WHERE user_id = ? AND position < ? AND type = 'RefusedAttemptsCounted'
        AND json_extract(record, '$.sealed') IS NULL
        AND json_array_length(record, '$.details.endUserIps') > 0`,
  ).run(userId, erasedAt);
  cached<[string, bigint]>(
    db,
    `UPDATE audit_events
        SET record = json_set(record, '$.actor.id', NULL, '$.personalDataErased', json('true'))
      WHERE user_id = ? AND position < ?
        AND json_extract(record, '$.actor.role') = 'web' AND json_extract(record, '$.actor.id') IS NOT NULL`,
  ).run(userId, erasedAt);
  cached<[string, bigint]>(
    db,
    `UPDATE audit_events
        SET record = json_set(record, '$.details.reason', NULL, '$.personalDataErased', json('true'))
      WHERE user_id = ? AND position < ? AND type = 'AdminReset'
        AND json_extract(record, '$.details.reason') IS NOT NULL`,
  ).run(userId, erasedAt);
}

/** An ISO time as stored (`toISOString`), so that text comparison is time order. */
export function normalizeTime(iso: string, field: string): string {
  const parsed = Date.parse(iso);
  if (!Number.isFinite(parsed)) throw new RangeError(`${field}: not an ISO 8601 time`);
  return new Date(parsed).toISOString();
}

type AuditStatements = {
  /** the first and last position in the time window, from the time index; null: no window */
  readonly bounds: string | null;
  /** one page, keyset on the position */
  readonly page: string;
  readonly params: Record<string, string>;
};

/**
 * The SQL of a query. A time window (`since`/`until`) is first turned into the positions of
 * its first and last record by a range scan of the covering index on (recorded_at, position);
 * the pages then walk the primary key between them. The time conditions stay on the page
 * query (records are in log order, and a store's clock may step back, so a record between
 * the bounds may lie outside the window) but marked `+` so that SQLite does not pick the
 * time index for the page: that would sort the whole window again for every page. With a
 * user id, the user index (user_id, position) narrows the pages and no bounds are needed.
 */
function auditStatements(query: AuditQuery): AuditStatements {
  const conditions = ['position > @after'];
  const timeConditions: string[] = [];
  const params: Record<string, string> = {};
  if (query.userId !== undefined) {
    conditions.push('user_id = @userId');
    params.userId = query.userId;
  }
  if (query.since !== undefined) {
    timeConditions.push('recorded_at >= @since');
    params.since = normalizeTime(query.since, 'since');
  }
  if (query.until !== undefined) {
    timeConditions.push('recorded_at < @until');
    params.until = normalizeTime(query.until, 'until');
  }
  const bounded = timeConditions.length > 0 && query.userId === undefined;
  if (bounded) conditions.push('position <= @last');
  conditions.push(...timeConditions.map((condition) => `+${condition}`));
  return {
    bounds: bounded
      ? `SELECT MIN(position) AS first, MAX(position) AS last
           FROM audit_events INDEXED BY audit_events_by_time WHERE ${timeConditions.join(' AND ')}`
      : null,
    page: `SELECT position, recorded_at, user_id, type, record FROM audit_events WHERE ${conditions.join(' AND ')}
            ORDER BY position LIMIT @take`,
    params,
  };
}

/** How SQLite runs the statements of `query` (EXPLAIN QUERY PLAN details): for tests and diagnosis. */
export function auditQueryPlan(db: Database.Database, query: AuditQuery): string[] {
  const { bounds, page, params } = auditStatements(query);
  const plan = (sql: string, extra: Record<string, unknown>) =>
    db
      .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all({ ...params, ...extra })
      .map((row) => row.detail);
  return [
    ...(bounds === null ? [] : plan(bounds, {})),
    ...plan(page, { after: 0n, take: 1, ...(bounds === null ? {} : { last: 0n }) }),
  ];
}

/**
 * The audit records matching the query, in log order, read page by page (keyset on the
 * position) so that memory stays the same however long the history; no statement stays
 * open between pages, so the projection keeps writing while a long export runs.
 *
 * A time window is bounded by the positions of its first and last record when the export
 * starts, so a record appended later with a time inside the window (an `until` in the
 * future) is not part of this export.
 */
export async function* auditEvents(
  db: Database.Database,
  query: AuditQuery,
): AsyncGenerator<StoredAuditRecord> {
  const pageSize = query.pageSize ?? 500;
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let after = query.after ?? 0n;
  const { bounds, page: pageSql, params } = auditStatements(query);
  const extra: Record<string, bigint> = {};
  if (bounds !== null) {
    const window = db
      .prepare<Record<string, string>, { first: bigint | null; last: bigint | null }>(bounds)
      .safeIntegers(true)
      .get(params);
    if (window?.first == null || window.last == null) return;
    if (window.first - 1n > after) after = window.first - 1n;
    extra.last = window.last;
  }
  const page = db.prepare<Record<string, unknown>, AuditRow>(pageSql).safeIntegers(true);
  while (remaining > 0) {
    const take = Math.min(pageSize, remaining);
    const rows = page.all({ ...params, ...extra, after, take });
    for (const row of rows) yield recordOfRow(row);
    if (rows.length < take) return;
    remaining -= rows.length;
    after = rows[rows.length - 1]!.position;
  }
}
