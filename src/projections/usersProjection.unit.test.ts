import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import { TwoFactorAccount } from '../domain/testing/account.ts';
import { MINUTE, SECOND, T0 } from '../domain/testing/clock.ts';
import { SECRET_A, SECRET_B } from '../domain/testing/totpCodes.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
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
        const { status, enabledAt, recoveryCodesRemaining, locked, recoveryCodesLocked } = twoFactorStatus(
          item.userId,
          users.get(item.userId)!.state,
          { nowMs, requireTwoFactor: false },
        );
        expect(item, `${item.userId} at ${nowMs - T0} ms`).toEqual({
          userId: item.userId,
          status,
          enabledAt,
          recoveryCodesRemaining,
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
