import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import {
  type AuditQuery,
  auditEvents,
  auditProjection,
  auditQueryPlan,
} from '../../src/projections/auditProjection.ts';
import { projectedEvent } from '../../src/projections/eventData.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const T0 = Date.UTC(2026, 0, 1);
const USERS = ['ann', 'ben', 'cy'];

/**
 * 3000 events a second apart, except that the store's clock steps back now and then (a
 * record later in the log with an earlier time), so that log order and time order differ.
 */
function history(): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let i = 1; i <= 3000; i++) {
    const stepBack = i % 97 === 0 ? 400_000 : 0;
    events.push({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      streamName: `two-factor-${USERS[i % 3]}`,
      revision: BigInt(i),
      position: BigInt(i * 10),
      type: 'VerificationFailed',
      data: { userId: USERS[i % 3], at: new Date(T0 + i * 1000).toISOString() },
      metadata: {},
      recordedAt: new Date(T0 + i * 1000 - stepBack),
    });
  }
  return events;
}

describe('the audit query by time', () => {
  const db = new Database(':memory:');
  const events = history();
  beforeAll(() => {
    auditProjection.migrate(db);
    db.transaction(() => {
      for (const event of events) auditProjection.apply(db, projectedEvent(event));
    })();
  });
  afterAll(() => db.close());

  const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

  it('bounds a time window with the time index, then walks the primary key between its ends', () => {
    for (const query of [
      { since: at(100) },
      { until: at(2000) },
      { since: at(100), until: at(2000) },
    ] satisfies AuditQuery[]) {
      const plan = auditQueryPlan(db, query);
      expect(plan, JSON.stringify(query)).toEqual([
        expect.stringMatching(
          /^SEARCH audit_events USING COVERING INDEX audit_events_by_time \(recorded_at[<>]/,
        ),
        expect.stringMatching(/^SEARCH audit_events USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)$/),
      ]);
    }
    // A user's records: the user index, bounded by position, no sort.
    expect(auditQueryPlan(db, { userId: 'ann', since: at(100) })).toEqual([
      expect.stringMatching(
        /^SEARCH audit_events USING INDEX audit_events_by_user \(user_id=\? AND position>\?\)$/,
      ),
    ]);
    expect(auditQueryPlan(db, {}).join(' ')).not.toMatch(/TEMP B-TREE|SCAN/);
  });

  it('returns exactly what the filters select, in log order, for any page size and resume point', async () => {
    const windows: [string | undefined, string | undefined][] = [
      [at(100), at(2000)],
      [at(100), undefined],
      [undefined, at(2000)],
      [at(1500), at(1501)],
      [at(2500), at(1000)],
      [at(5000), undefined],
      [undefined, at(0)],
    ];
    for (const [since, until] of windows) {
      for (const userId of [undefined, 'ben']) {
        for (const after of [undefined, 0n, 5000n, 29_990n]) {
          for (const [pageSize, limit] of [
            [7, undefined],
            [500, 50],
            [1, 3],
          ] as const) {
            const query = {
              ...(since ? { since } : {}),
              ...(until ? { until } : {}),
              ...(userId ? { userId } : {}),
              ...(after !== undefined ? { after } : {}),
              ...(limit ? { limit } : {}),
              pageSize,
            };
            const expected = events
              .filter(
                (e) =>
                  (after === undefined || e.position > after) &&
                  (userId === undefined || e.data.userId === userId) &&
                  (since === undefined || e.recordedAt.toISOString() >= since) &&
                  (until === undefined || e.recordedAt.toISOString() < until),
              )
              .slice(0, limit ?? Number.POSITIVE_INFINITY)
              .map((e) => e.position.toString());
            const got = (await collect(auditEvents(db, query))).map((record) => record.position);
            expect(
              got,
              JSON.stringify(query, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
            ).toEqual(expected);
          }
        }
      }
    }
  });
});
