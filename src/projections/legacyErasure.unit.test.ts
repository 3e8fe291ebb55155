import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { T0 } from '../domain/testing/clock.ts';
import { adminReset, refusedAttemptsCounted, signInVerified, userErased } from '../domain/testing/events.ts';
import { enabled } from '../domain/testing/histories.ts';
import { WEB } from '../domain/testing/metadata.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import type { RecordedEvent } from '../eventStore/eventStore.ts';
import { auditEvents, auditProjection } from './auditProjection.ts';
import type { StoredAuditRecord } from './auditRecord.ts';
import { projectedEvent } from './eventData.ts';
import { notificationsProjection } from './notificationsProjection.ts';

/*
 * Events written before data keys carry the end user's address and agent in plain text (as
 * the domain's own test events do). The read models keep copies; an erasure clears them.
 */

const recorded = (events: readonly TwoFactorEvent[]): RecordedEvent[] =>
  events.map((event, index) => ({
    id: randomUUID(),
    streamName: `two-factor-${event.data.userId}`,
    revision: BigInt(index),
    position: BigInt(index + 1),
    type: event.type,
    data: event.data as unknown as RecordedEvent['data'],
    metadata: event.metadata as unknown as RecordedEvent['metadata'],
    recordedAt: new Date(T0),
  }));

async function project(events: readonly TwoFactorEvent[]) {
  const db = new Database(':memory:');
  for (const projection of [auditProjection, notificationsProjection]) {
    projection.migrate(db);
    for (const event of recorded(events)) projection.apply(db, projectedEvent(event));
  }
  const rows = (sql: string) =>
    db
      .prepare<[], { json: string }>(sql)
      .all()
      .map((row) => row.json);
  const records: StoredAuditRecord[] = [];
  for await (const record of auditEvents(db, {})) records.push(record);
  return {
    /** each row as stored, for what any copy of the file holds */
    audit: rows('SELECT user_id || type || record AS json FROM audit_events ORDER BY position'),
    /** each record as the audit reads it back */
    records,
    notifications: rows('SELECT details AS json FROM notifications ORDER BY position, seq'),
  };
}

/** Written before they were sealed too: the id the web API acted for, and a reset's reason. */
const ACTOR = 'user-1.actor@example.com';
const REASON = 'called from 555-0199, ticket 31';
const actingFor = (event: TwoFactorEvent): TwoFactorEvent =>
  ({ ...event, metadata: { ...event.metadata, actor: { role: 'web', id: ACTOR } } }) as TwoFactorEvent;

const personal = [WEB.endUserIp!, WEB.endUserAgent!, '198.51.100.77', ACTOR, REASON];
const before = [
  ...enabled,
  actingFor(signInVerified(T0, 'totp', 1)),
  refusedAttemptsCounted(T0, 2, T0 - 60_000, T0, ['198.51.100.77']),
  adminReset(T0 + 30_000, 'enabled', REASON),
];

describe('an erasure of a user whose events predate data keys', () => {
  it('leaves their plain-text addresses, agents, web actor ids and reset reasons in no audit record or notification', async () => {
    const kept = await project(before);
    // Before the erasure the copies are there: the check below could find them.
    for (const value of personal) expect([...kept.audit, ...kept.notifications].join('\n')).toContain(value);

    const erased = await project([...before, userErased(T0 + 60_000, 'disabled')]);
    const everything = [...erased.audit, ...erased.notifications].join('\n');
    for (const value of personal) expect(everything).not.toContain(value);
    // Every earlier record says its personal data is gone.
    const { records } = erased;
    expect(records.length).toBe(erased.audit.length);
    expect(records.slice(0, -1).every((record) => record.personalDataErased === true)).toBe(true);
    expect(records.at(-1)).toMatchObject({ type: 'UserErased' });
  });

  it('leaves other users’ records as they were', async () => {
    const other = signInVerified(T0, 'totp', 1);
    const someoneElse = { ...other, data: { ...other.data, userId: 'someone-else' } } as TwoFactorEvent;
    const { records } = await project([...before, someoneElse, userErased(T0 + 60_000, 'disabled')]);
    const untouched = records.find((record) => record.userId === 'someone-else');
    expect(untouched).toMatchObject({ endUserIp: WEB.endUserIp, personalDataErased: false });
  });
});
