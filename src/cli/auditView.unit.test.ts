import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../projections/auditRecord.ts';
import { auditTableHeader, auditTableRow, matchesAuditFilter } from './auditView.ts';
import { CONTROL_CHARACTERS } from './lineOutput.ts';

const record = (overrides: Partial<AuditRecord> = {}): AuditRecord => ({
  position: '42',
  recordedAt: '2026-01-15T09:00:00.000Z',
  userId: 'ada',
  type: 'AdminReset',
  actor: { role: 'cli', id: 'root' },
  correlationId: '7b0f6c1e-0000-4000-8000-000000000000',
  personalDataErased: false,
  endUserIp: null,
  endUserAgent: null,
  details: { reason: 'lost phone', previousStatus: 'enabled' },
  ...overrides,
});

describe('audit filter', () => {
  it('keeps one user, from since (inclusive) to until (exclusive)', () => {
    const at = Date.parse('2026-01-15T09:00:00.000Z');
    expect(matchesAuditFilter(record(), {})).toBe(true);
    expect(matchesAuditFilter(record(), { userId: 'ada' })).toBe(true);
    expect(matchesAuditFilter(record(), { userId: 'bob' })).toBe(false);
    expect(matchesAuditFilter(record({ userId: null }), { userId: 'ada' })).toBe(false);
    expect(matchesAuditFilter(record(), { sinceMs: at })).toBe(true);
    expect(matchesAuditFilter(record(), { sinceMs: at + 1 })).toBe(false);
    expect(matchesAuditFilter(record(), { untilMs: at })).toBe(false);
    expect(matchesAuditFilter(record(), { untilMs: at + 1 })).toBe(true);
  });
});

describe('audit table', () => {
  it('lines a row up under the header, with the details at the end', () => {
    const header = auditTableHeader();
    const row = auditTableRow(record());
    expect(row.indexOf('2026-01-15T09:00:00.000Z')).toBe(header.indexOf('RECORDED AT'));
    expect(row.indexOf('cli:root')).toBe(header.indexOf('ACTOR'));
    expect(row.endsWith('reason="lost phone" previousStatus=enabled')).toBe(true);
  });

  it('never lets recorded text drive the terminal', () => {
    const row = auditTableRow(record({ userId: 'ada', details: { reason: 'x\u001b[2Jy\u009b' } }));
    expect(row).not.toMatch(new RegExp(CONTROL_CHARACTERS.source));
    expect(row).toContain('\\u001b[2Jy');
  });

  it('shows bidirectional overrides as escapes, so a record cannot read as another', () => {
    const row = auditTableRow(
      record({ actor: { role: 'admin', id: 'e\u202Ex' }, details: { reason: 'ok\u2069' } }),
    );
    expect(row).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/u);
    expect(row).toContain('e\\u202ex');
    expect(row).toContain('ok\\u2069');
  });
});
