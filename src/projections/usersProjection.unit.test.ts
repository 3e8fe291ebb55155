import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import type { AnyEvent, CommandMetadata } from '../domain/shared/message.ts';
import { TwoFactorAccount } from '../domain/testing/account.ts';
import { iso, MINUTE, SECOND, T0 } from '../domain/testing/clock.ts';
import { ADMIN, WEB } from '../domain/testing/metadata.ts';
import { issueRecoveryCodes } from '../domain/testing/recoveryCodes.ts';
import { sealSecret } from '../domain/testing/secrets.ts';
import { SECRET_A, SECRET_B } from '../domain/testing/totpCodes.ts';
import { HOUR_MS } from '../domain/twoFactor/enrollmentDeadline.ts';
import type { ProofRecord, TwoFactorEvent, TwoFactorEventType } from '../domain/twoFactor/events.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import { twoFactorStatus } from '../domain/twoFactor/status.ts';
import { projectedEvent } from './eventData.ts';
import { listUsers, type UserStatus, usersProjection } from './usersProjection.ts';

const failSignIn = (account: TwoFactorAccount, times: number, factor: Factor = 'app') =>
  account.failInARow(factor, times);

/** One account in each state the list distinguishes, by the domain's own commands. */
function accounts(): Map<string, TwoFactorAccount> {
  const pending = new TwoFactorAccount(T0);
  pending.start(SECRET_A);
  const enabled = new TwoFactorAccount(T0);
  const codes = enabled.enable(SECRET_A);
  enabled.advance(SECOND).signIn(enabled.recovery(codes.codes[0]!));
  const replacing = new TwoFactorAccount(T0);
  replacing.enable(SECRET_A);
  replacing.advance(MINUTE).start(SECRET_B, replacing.totp(replacing.currentCode()));
  const locked = new TwoFactorAccount(T0);
  locked.enable(SECRET_A);
  failSignIn(locked, 5);
  const lockedForGood = new TwoFactorAccount(T0);
  lockedForGood.enable(SECRET_A);
  failSignIn(lockedForGood, 100);
  const reset = new TwoFactorAccount(T0);
  reset.enable(SECRET_A);
  failSignIn(reset, 5);
  reset.reset();
  const codesLocked = new TwoFactorAccount(T0);
  codesLocked.enable(SECRET_A);
  failSignIn(codesLocked, 5, 'recovery-codes');
  const codesLockedForGood = new TwoFactorAccount(T0);
  codesLockedForGood.enable(SECRET_A);
  failSignIn(codesLockedForGood, 100, 'recovery-codes');
  // Locked out of the app, let in by a recovery code: the lock ended, the count goes on.
  const rescued = new TwoFactorAccount(T0);
  const rescueCodes = rescued.enable(SECRET_A);
  failSignIn(rescued, 5);
  rescued.advance(SECOND).signIn(rescued.recovery(rescueCodes.codes[1]!));
  // …and one whose app stays disabled after a recovery code.
  const stillDisabled = new TwoFactorAccount(T0);
  const stillDisabledCodes = stillDisabled.enable(SECRET_A);
  failSignIn(stillDisabled, 100);
  stillDisabled.advance(SECOND).signIn(stillDisabled.recovery(stillDisabledCodes.codes[1]!));
  const abandoned = new TwoFactorAccount(T0);
  abandoned.start(SECRET_A);
  abandoned.advance(MINUTE).start(SECRET_B);
  return new Map([
    ['u-pending', pending],
    ['u-enabled', enabled],
    ['u-replacing', replacing],
    ['u-locked', locked],
    ['u-locked-for-good', lockedForGood],
    ['u-reset', reset],
    ['u-codes-locked', codesLocked],
    ['u-codes-locked-for-good', codesLockedForGood],
    ['u-rescued', rescued],
    ['u-still-disabled', stillDisabled],
    ['u-abandoned', abandoned],
  ]);
}

function project(users: ReadonlyMap<string, TwoFactorAccount>): Database.Database {
  const db = new Database(':memory:');
  usersProjection.migrate(db);
  let position = 0n;
  for (const [userId, account] of users) {
    const streamName = `two-factor-${userId}`;
    const { stored } = toStoredEvents(streamName, 0n, 'genesis', account.events);
    stored.forEach((event, index) => {
      position += 1n;
      usersProjection.apply(
        db,
        projectedEvent({
          ...event,
          data: { ...event.data, userId },
          streamName,
          revision: BigInt(index),
          position,
          recordedAt: new Date(T0),
        }),
      );
    });
  }
  return db;
}

/** Every moment where a status or a lock changes, and either side of it. */
function momentsOf(users: ReadonlyMap<string, TwoFactorAccount>): number[] {
  const edges = [...users.values()].flatMap(({ state }) => [
    state.pending?.expiresAtMs ?? T0,
    state.lockouts.app.lockedUntilMs ?? T0,
    state.lockouts['recovery-codes'].lockedUntilMs ?? T0,
  ]);
  return [...new Set(edges.flatMap((ms) => [ms - 1, ms, ms + 1]))].sort((a, b) => a - b);
}

describe('the user list', () => {
  const users = accounts();
  const db = project(users);

  it('shows what the domain says of each user, at every moment a status or a lock changes', () => {
    const shown = new Set<string>();
    for (const nowMs of momentsOf(users)) {
      const listed = listUsers(db, { nowMs, limit: 500 }).users;
      expect(listed.map((user) => user.userId)).toEqual([...users.keys()].sort());
      for (const item of listed) {
        const { state } = users.get(item.userId)!;
        const { status, enabledAt, recoveryCodesRemaining, locked, recoveryCodesLocked } = twoFactorStatus(
          item.userId,
          state,
          { nowMs, requireTwoFactor: false },
        );
        expect(item, `${item.userId} at ${nowMs - T0} ms`).toEqual({
          userId: item.userId,
          status,
          enabledAt,
          recoveryCodesRemaining,
          authenticators: state.authenticators.length,
          locked,
          recoveryCodesLocked,
          enrollBy: null,
        });
        shown.add(
          `${item.status} app ${item.locked ? 'locked' : 'open'} codes ${item.recoveryCodesLocked ? 'locked' : 'open'} ${item.recoveryCodesRemaining}`,
        );
      }
    }
    // The cases are there: locked and not, a code used, pending and lapsed.
    expect([...shown].sort()).toEqual([
      'disabled app open codes open 0',
      'enabled app locked codes open 10',
      'enabled app locked codes open 9',
      'enabled app open codes locked 10',
      'enabled app open codes open 10',
      'enabled app open codes open 9',
      'pending app open codes open 0',
    ]);
  });

  // The status filter is SQL, the one copy of the domain's rule: this is what catches drift.
  it("filters by status exactly as the domain's statusName decides it, at every edge", () => {
    const statuses: UserStatus[] = ['enabled', 'pending', 'disabled'];
    const seen = new Set<UserStatus>();
    for (const nowMs of momentsOf(users)) {
      const all = listUsers(db, { nowMs, limit: 500 }).users;
      for (const status of statuses) {
        const expected = [...users]
          .filter(([userId, account]) => {
            const domain = twoFactorStatus(userId, account.state, { nowMs, requireTwoFactor: false });
            return domain.status === status;
          })
          .map(([userId]) => userId)
          .sort();
        const filtered = listUsers(db, { nowMs, status, limit: 500 }).users;
        expect(
          filtered.map((user) => user.userId),
          `${status} at ${nowMs - T0} ms`,
        ).toEqual(expected);
        expect(filtered).toEqual(all.filter((user) => user.status === status));
        if (expected.length > 0) seen.add(status);
      }
    }
    expect([...seen].sort()).toEqual([...statuses].sort());
  });

  it('pages a filtered list without skipping or repeating a user', () => {
    const nowMs = T0 + 2 * MINUTE;
    const whole = listUsers(db, { nowMs, status: 'enabled', limit: 500 }).users;
    const paged = [];
    let cursor: string | null = null;
    do {
      const page = listUsers(db, { nowMs, status: 'enabled', limit: 1, ...(cursor ? { cursor } : {}) });
      paged.push(...page.users);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(whole);
  });
});

type EventOf<T extends TwoFactorEventType> = Extract<TwoFactorEvent, { type: T }>;

/** One user's history, written out event by event as the domain records it today. */
class History {
  readonly events: AnyEvent[] = [];
  #nowMs = T0;

  constructor(readonly userId: string) {}

  add<T extends TwoFactorEventType>(
    type: T,
    data: Omit<EventOf<T>['data'], 'userId' | 'at'>,
    metadata: CommandMetadata = WEB,
  ): this {
    this.#nowMs += SECOND;
    this.events.push({
      type,
      data: { userId: this.userId, at: iso(this.#nowMs), ...data },
      metadata: { ...metadata, schemaVersion: TWO_FACTOR_SCHEMA_VERSIONS[type] },
    } as unknown as AnyEvent);
    return this;
  }
}

/** Each history projected in turn into a fresh users table. */
function projectHistories(histories: readonly History[]): Database.Database {
  const db = new Database(':memory:');
  usersProjection.migrate(db);
  let position = 0n;
  for (const { userId, events } of histories) {
    const streamName = `two-factor-${userId}`;
    const { stored } = toStoredEvents(streamName, 0n, 'genesis', events);
    stored.forEach((event, index) => {
      position += 1n;
      usersProjection.apply(
        db,
        projectedEvent({ ...event, streamName, revision: BigInt(index), position, recordedAt: new Date(T0) }),
      );
    });
  }
  return db;
}

describe("the user list's count of authenticator apps", () => {
  const codes = issueRecoveryCodes('users list').set;
  const secret = sealSecret('JBSWY3DPEHPK3PXP');
  const totp = (authenticatorId: string, step: number): ProofRecord => ({
    method: 'totp',
    step,
    authenticatorId,
  });
  const enabled = (userId: string) =>
    new History(userId).add('TwoFactorEnabled', {
      authenticatorId: 'auth_1',
      name: 'Phone',
      secret,
      step: 1,
      recoveryCodes: codes,
    });
  const added = (history: History, authenticatorId: string, name: string, step: number) =>
    history
      .add('AuthenticatorAdded', {
        authenticatorId,
        name,
        secret,
        expiresAt: iso(T0 + 15 * MINUTE),
        proof: totp('auth_1', step),
      })
      .add('AuthenticatorConfirmed', { authenticatorId, name, step });
  const countOf = (histories: readonly History[]) => {
    const db = projectHistories(histories);
    const users = listUsers(db, { nowMs: T0 + HOUR_MS, limit: 500 }).users;
    db.close();
    return Object.fromEntries(users.map((user) => [user.userId, [user.status, user.authenticators]]));
  };

  it('counts confirmed apps: one when enabled, one more for each addition confirmed, one less for each removed', () => {
    const pendingAddition = enabled('u-pending-addition').add('AuthenticatorAdded', {
      authenticatorId: 'auth_2',
      name: 'Tablet',
      secret,
      expiresAt: iso(T0 + 15 * MINUTE),
      proof: totp('auth_1', 2),
    });
    const three = added(added(enabled('u-three'), 'auth_2', 'Tablet', 2), 'auth_3', 'Laptop', 3).add(
      'AuthenticatorRenamed',
      { authenticatorId: 'auth_3', name: 'Old laptop', previousName: 'Laptop' },
    );
    const removedOne = added(enabled('u-removed-one'), 'auth_2', 'Tablet', 2).add('AuthenticatorRemoved', {
      authenticatorId: 'auth_1',
      name: 'Phone',
      proof: totp('auth_2', 3),
    });
    // Removing the last app disables 2FA in the same commit.
    const removedLast = enabled('u-removed-last')
      .add('AuthenticatorRemoved', { authenticatorId: 'auth_1', name: 'Phone', proof: totp('auth_1', 2) })
      .add('TwoFactorDisabled', { method: 'totp', step: 2, authenticatorId: 'auth_1' });
    const replaced = added(enabled('u-replaced'), 'auth_2', 'Tablet', 2)
      .add('EnrollmentStarted', {
        authenticatorId: 'auth_3',
        name: 'New phone',
        secret,
        expiresAt: iso(T0 + 15 * MINUTE),
        replacement: true,
        proof: { method: 'recovery-code', step: null, authenticatorId: null },
      })
      .add('AuthenticatorReplaced', {
        authenticatorId: 'auth_3',
        name: 'New phone',
        secret,
        step: 4,
        recoveryCodes: codes,
      });
    const disabled = added(enabled('u-disabled'), 'auth_2', 'Tablet', 2).add('TwoFactorDisabled', {
      method: 'recovery-code',
      step: null,
      authenticatorId: null,
    });
    const reset = added(enabled('u-reset'), 'auth_2', 'Tablet', 2).add(
      'AdminReset',
      { reason: 'lost both', previousStatus: 'enabled' },
      ADMIN,
    );
    const reenabled = added(enabled('u-reenabled'), 'auth_2', 'Tablet', 2)
      .add('AdminReset', { reason: 'lost both', previousStatus: 'enabled' }, ADMIN)
      .add('TwoFactorEnabled', {
        authenticatorId: 'auth_1',
        name: 'Phone',
        secret,
        step: 9,
        recoveryCodes: codes,
      });
    const erased = added(enabled('u-erased'), 'auth_2', 'Tablet', 2).add(
      'UserErased',
      { reason: 'erasure request', previousStatus: 'enabled' },
      ADMIN,
    );
    expect(
      countOf([
        pendingAddition,
        three,
        removedOne,
        removedLast,
        replaced,
        disabled,
        reset,
        reenabled,
        erased,
      ]),
    ).toEqual({
      'u-pending-addition': ['enabled', 1],
      'u-three': ['enabled', 3],
      'u-removed-one': ['enabled', 1],
      'u-removed-last': ['disabled', 0],
      'u-replaced': ['enabled', 1],
      'u-disabled': ['disabled', 0],
      'u-reset': ['disabled', 0],
      'u-reenabled': ['enabled', 1],
      'u-erased': ['disabled', 0],
    });
  });

  it('reads a history recorded when users had one app as one app', () => {
    const db = new Database(':memory:');
    usersProjection.migrate(db);
    const v1 = {
      type: 'TwoFactorEnabled',
      data: { userId: 'u-before', at: iso(T0), secret, step: 1, recoveryCodes: codes },
      metadata: { ...WEB, schemaVersion: 1 },
    } as unknown as AnyEvent;
    const [event] = toStoredEvents('two-factor-u-before', 0n, 'genesis', [v1]).stored;
    usersProjection.apply(
      db,
      projectedEvent({
        ...event!,
        streamName: 'two-factor-u-before',
        revision: 0n,
        position: 1n,
        recordedAt: new Date(T0),
      }),
    );
    expect(listUsers(db, { nowMs: T0, limit: 500 }).users).toMatchObject([
      { userId: 'u-before', status: 'enabled', authenticators: 1 },
    ]);
  });
});
