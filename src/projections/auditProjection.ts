import type Database from 'better-sqlite3';
import { type AuditRecord, toAuditRecord } from './auditRecord.ts';
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

/**
 * One row per event of the log, in log order: the audit history. The position is the row id
 * (SQLite INTEGER, 64-bit, bound and read as bigint so nothing rounds past 2^53); the record
 * is kept as the JSON the audit stream sends, and the columns the filters need beside it.
 */
export const auditProjection: Projection = {
  name: 'audit',
  version: 1,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS audit_events (
        position INTEGER PRIMARY KEY,
        recorded_at TEXT NOT NULL,
        user_id TEXT,
        type TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_events_by_user ON audit_events (user_id, position);
    `);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS audit_events');
  },
  apply(db, event) {
    const record = toAuditRecord(event);
    // A plain INSERT: applying an event twice is a bug that must fail loudly, not be hidden.
    cached<[bigint, string, string | null, string, string]>(
      db,
      'INSERT INTO audit_events (position, recorded_at, user_id, type, record) VALUES (?, ?, ?, ?, ?)',
    ).run(event.position, record.recordedAt, record.userId, record.type, JSON.stringify(record));
  },
};

/** An ISO time as stored (`toISOString`), so that text comparison is time order. */
export function normalizeTime(iso: string, field: string): string {
  const parsed = Date.parse(iso);
  if (!Number.isFinite(parsed)) throw new RangeError(`${field}: not an ISO 8601 time`);
  return new Date(parsed).toISOString();
}

/**
 * The audit records matching the query, in log order, read page by page (keyset on the
 * position) so that memory stays the same however long the history; no statement stays
 * open between pages, so the projection keeps writing while a long export runs.
 */
export async function* auditEvents(db: Database.Database, query: AuditQuery): AsyncGenerator<AuditRecord> {
  const pageSize = query.pageSize ?? 500;
  let remaining = query.limit ?? Number.POSITIVE_INFINITY;
  let after = query.after ?? 0n;
  const conditions = ['position > @after'];
  const params: Record<string, string> = {};
  if (query.userId !== undefined) {
    conditions.push('user_id = @userId');
    params.userId = query.userId;
  }
  if (query.since !== undefined) {
    conditions.push('recorded_at >= @since');
    params.since = normalizeTime(query.since, 'since');
  }
  if (query.until !== undefined) {
    conditions.push('recorded_at < @until');
    params.until = normalizeTime(query.until, 'until');
  }
  const page = db
    .prepare<Record<string, unknown>, { position: bigint; record: string }>(
      `SELECT position, record FROM audit_events WHERE ${conditions.join(' AND ')}
        ORDER BY position LIMIT @take`,
    )
    .safeIntegers(true);
  while (remaining > 0) {
    const take = Math.min(pageSize, remaining);
    const rows = page.all({ ...params, after, take });
    for (const row of rows) yield JSON.parse(row.record) as AuditRecord;
    if (rows.length < take) return;
    remaining -= rows.length;
    after = rows[rows.length - 1]!.position;
  }
}
