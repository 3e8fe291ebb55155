import type { AuditRecord } from '../projections/auditRecord.ts';
import { printable } from './lineOutput.ts';

export type AuditFilter = {
  readonly userId?: string;
  /** epoch ms, inclusive, compared with `recordedAt` */
  readonly sinceMs?: number;
  /** epoch ms, exclusive, so that consecutive windows never share a record */
  readonly untilMs?: number;
};

export function matchesAuditFilter(record: AuditRecord, filter: AuditFilter): boolean {
  if (filter.userId !== undefined && record.userId !== filter.userId) return false;
  if (filter.sinceMs === undefined && filter.untilMs === undefined) return true;
  const at = Date.parse(record.recordedAt);
  if (filter.sinceMs !== undefined && at < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && at >= filter.untilMs) return false;
  return true;
}

/*
 * The table is for a person at a terminal; the rows are streamed, so the columns have fixed
 * widths instead of fitting the widest value. NDJSON carries every field in full.
 */
const COLUMNS = [
  { title: 'POSITION', width: 10, alignRight: true },
  { title: 'RECORDED AT', width: 24 },
  { title: 'USER', width: 20 },
  { title: 'TYPE', width: 28 },
  { title: 'ACTOR', width: 20 },
  { title: 'FROM', width: 15 },
  { title: 'CORRELATION', width: 36 },
] as const;

function cell(text: string, width: number, alignRight = false): string {
  const clean = printable(text);
  const fitted = clean.length > width ? `${clean.slice(0, width - 1)}…` : clean;
  return alignRight ? fitted.padStart(width) : fitted.padEnd(width);
}

const row = (values: readonly string[], details: string) =>
  `${COLUMNS.map((column, i) => cell(values[i] ?? '', column.width, 'alignRight' in column)).join('  ')}  ${details}`.trimEnd();

export const auditTableHeader = (): string =>
  row(
    COLUMNS.map((c) => c.title),
    'DETAILS',
  );

const detailValue = (value: unknown): string =>
  typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);

export function auditTableRow(record: AuditRecord): string {
  const details = Object.entries(record.details)
    .map(([key, value]) => `${key}=${detailValue(value)}`)
    .join(' ');
  return row(
    [
      record.position,
      record.recordedAt,
      record.userId ?? '-',
      record.type,
      record.actor.id === null ? record.actor.role : `${record.actor.role}:${record.actor.id}`,
      record.endUserIp ?? '-',
      record.correlationId ?? '-',
    ],
    printable(details),
  );
}
