import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import { TwoFactorAccount } from '../domain/testing/account.ts';
import { MINUTE, SECOND, T0 } from '../domain/testing/clock.ts';
import { SECRET_A, wrongCodeAt } from '../domain/testing/totpCodes.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
import { projectedEvent } from './eventData.ts';
import { listNotifications, notificationsProjection } from './notificationsProjection.ts';

/** Projects one user's history into a fresh notifications table and lists what came out. */
function notify(events: readonly TwoFactorEvent[]) {
  const db = new Database(':memory:');
  notificationsProjection.migrate(db);
  const { stored } = toStoredEvents('two-factor-user-1', 0n, 'genesis', events);
  stored.forEach((event, index) => {
    notificationsProjection.apply(
      db,
      projectedEvent({
        ...event,
        streamName: 'two-factor-user-1',
        revision: BigInt(index),
        position: BigInt(index + 1),
        recordedAt: new Date(T0),
      }),
    );
  });
  const { notifications } = listNotifications(db, { limit: 500 });
  db.close();
  return notifications;
}

describe('notifications of a persistent attack', () => {
  /** A hundred wrong codes of one factor in a row, each lock waited out: disabled until an administrator unlocks. */
  function attacked(factor: Factor, account = new TwoFactorAccount(T0)): TwoFactorAccount {
    if (!account.state.enabled) account.enable(SECRET_A);
    return account.failInARow(factor, 100);
  }

  it.each<Factor>(['app', 'recovery-codes'])(
    '%s: warns once at 50 failures, and tells of the first lock and the lasting one only, naming the factor',
    (factor) => {
      const account = attacked(factor);
      const locks = account.events.filter((e) => e.type === 'FactorLocked');
      expect(locks.length).toBe(20);
      const notes = notify(account.events).filter((n) => n.kind !== 'two-factor-enabled');
      expect(notes.map((n) => [n.kind, n.details.factor])).toEqual([
        ['factor-locked', factor],
        ['factor-lock-warning', factor],
        ['factor-locked', factor],
      ]);
      expect(notes[0]!.details.lockedUntil).not.toBeNull();
      expect(notes[1]!.details.consecutiveFailures).toBe(50);
      expect(notes[2]!.details.lockedUntil).toBeNull();
    },
  );

  it('tells of each factor’s locks on its own', () => {
    const account = attacked('recovery-codes', attacked('app'));
    const notes = notify(account.events).filter((n) => n.kind.startsWith('factor-'));
    expect(notes.map((n) => `${n.kind} ${n.details.factor}`)).toEqual([
      'factor-locked app',
      'factor-lock-warning app',
      'factor-locked app',
      'factor-locked recovery-codes',
      'factor-lock-warning recovery-codes',
      'factor-locked recovery-codes',
    ]);
  });

  it('tells of a new first lock after the user got in again with the app', () => {
    const account = new TwoFactorAccount(T0);
    account.enable(SECRET_A);
    for (let i = 0; i < 5; i++)
      account.advance(SECOND).signIn(account.totp(wrongCodeAt(SECRET_A, account.nowMs)));
    account.advance(MINUTE).signIn(account.totp(account.currentCode()));
    account.advance(MINUTE);
    for (let i = 0; i < 5; i++)
      account.advance(SECOND).signIn(account.totp(wrongCodeAt(SECRET_A, account.nowMs)));
    const kinds = notify(account.events).map((n) => n.kind);
    expect(kinds.filter((k) => k === 'factor-locked')).toHaveLength(2);
  });
});
