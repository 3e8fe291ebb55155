import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import { TwoFactorAccount } from '../domain/testing/account.ts';
import { iso, MINUTE, SECOND, T0 } from '../domain/testing/clock.ts';
import { USER_ID, WEB } from '../domain/testing/metadata.ts';
import { issueRecoveryCodes } from '../domain/testing/recoveryCodes.ts';
import { sealSecret } from '../domain/testing/secrets.ts';
import { SECRET_A, wrongCodeAt } from '../domain/testing/totpCodes.ts';
import type { TwoFactorEvent, TwoFactorEventType } from '../domain/twoFactor/events.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import { projectedEvent } from './eventData.ts';
import { listNotifications, NOTIFICATION_KINDS, notificationsProjection } from './notificationsProjection.ts';

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

type EventOf<T extends TwoFactorEventType> = Extract<TwoFactorEvent, { type: T }>;

/** An event as the domain writes it today, by the end user over the web API. */
const current = <T extends TwoFactorEventType>(
  type: T,
  nowMs: number,
  data: Omit<EventOf<T>['data'], 'userId' | 'at'>,
): EventOf<T> =>
  ({
    type,
    data: { userId: USER_ID, at: iso(nowMs), ...data },
    metadata: { ...WEB, schemaVersion: TWO_FACTOR_SCHEMA_VERSIONS[type] },
  }) as unknown as EventOf<T>;

describe('notifications of authenticator apps added and removed', () => {
  const secret = sealSecret(SECRET_A);
  const codes = issueRecoveryCodes('notifications');
  const tablet = { authenticatorId: 'auth_2', name: 'Tablet' };
  const events: TwoFactorEvent[] = [
    current('TwoFactorEnabled', T0, {
      authenticatorId: 'auth_1',
      name: 'Phone',
      secret,
      step: 1,
      recoveryCodes: codes.set,
    }),
    current('AuthenticatorAdded', T0 + MINUTE, {
      ...tablet,
      secret,
      expiresAt: iso(T0 + 16 * MINUTE),
      proof: { method: 'totp', step: 2, authenticatorId: 'auth_1' },
    }),
    current('AuthenticatorConfirmed', T0 + 2 * MINUTE, { ...tablet, step: 3 }),
    current('AuthenticatorRenamed', T0 + 3 * MINUTE, {
      ...tablet,
      name: 'Old tablet',
      previousName: 'Tablet',
    }),
    current('AuthenticatorRemoved', T0 + 4 * MINUTE, {
      ...tablet,
      name: 'Old tablet',
      proof: { method: 'totp', step: 5, authenticatorId: 'auth_1' },
    }),
  ];

  it('tells the user of an app once it is confirmed, and when it is removed, naming it', () => {
    const notes = notify(events);
    expect(notes.map((n) => n.kind)).toEqual([
      'two-factor-enabled',
      'authenticator-added',
      'authenticator-removed',
    ]);
    expect(notes[1]).toMatchObject({
      kind: 'authenticator-added',
      occurredAt: iso(T0 + 2 * MINUTE),
      details: {
        occurredAt: iso(T0 + 2 * MINUTE),
        authenticatorId: 'auth_2',
        authenticatorName: 'Tablet',
        endUserIp: WEB.endUserIp,
        endUserAgent: WEB.endUserAgent,
      },
    });
    expect(notes[2]).toMatchObject({
      kind: 'authenticator-removed',
      occurredAt: iso(T0 + 4 * MINUTE),
      details: { authenticatorId: 'auth_2', authenticatorName: 'Old tablet' },
    });
    // The app's secret is in what was added, never in what the user is told.
    const json = JSON.stringify(notes);
    for (const field of [secret.ciphertext, secret.nonce, secret.tag, SECRET_A])
      expect(json).not.toContain(field);
  });

  it('lists the new kinds among those the API documents', () => {
    expect(NOTIFICATION_KINDS).toEqual(
      expect.arrayContaining(['authenticator-added', 'authenticator-removed']),
    );
  });
});
