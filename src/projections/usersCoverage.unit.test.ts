import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import {
  evolvePolicy,
  initialPolicyState,
  POLICY_STREAM,
  requirementOf,
  type TwoFactorRequirementChanged,
} from '../domain/policy/policy.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import { TwoFactorAccount } from '../domain/testing/account.ts';
import { HOUR, MINUTE, T0 } from '../domain/testing/clock.ts';
import { requirement, requirementChanged, resetUnder } from '../domain/testing/requirement.ts';
import { SECRET_A } from '../domain/testing/totpCodes.ts';
import { twoFactorStatus } from '../domain/twoFactor/status.ts';
import { projectedEvent } from './eventData.ts';
import { listUsers, usersProjection, usersSummary } from './usersProjection.ts';

/*
 * The users read model under "require 2FA": the `required` list, every row's `enrollBy` and
 * the summary, checked against what the domain's own status says of each user.
 */

const ON = T0;
const first = requirement(ON, 72);

/** The policy: on with 72 hours at T0, the grace cut to 24 hours ten hours later. */
const policyHistory: TwoFactorRequirementChanged[] = [
  requirementChanged(true, false, ON, 72),
  requirementChanged(true, true, ON + 10 * HOUR, 24, 72),
];

/** One account in each situation the requirement distinguishes, by the domain's own commands. */
function accounts(): Map<string, TwoFactorAccount> {
  const enrolledBefore = new TwoFactorAccount(ON - HOUR);
  enrolledBefore.enable(SECRET_A);
  const seen = new TwoFactorAccount(ON + HOUR);
  seen.see(first);
  const seenLater = new TwoFactorAccount(ON + 9 * HOUR);
  seenLater.see(first);
  const pending = new TwoFactorAccount(ON + 2 * HOUR);
  pending.see(first);
  pending.start(SECRET_A);
  const reset = new TwoFactorAccount(ON - HOUR);
  reset.enable(SECRET_A);
  reset.clock.advance(ON + 3 * HOUR - reset.nowMs);
  reset.run(resetUnder(reset.nowMs, first));
  const erased = new TwoFactorAccount(ON + HOUR);
  erased.see(first);
  erased.advance(3 * HOUR).erase();
  const enrolledAfterSight = new TwoFactorAccount(ON + HOUR);
  enrolledAfterSight.see(first);
  enrolledAfterSight.advance(4 * HOUR).enable(SECRET_A);
  const lapsedBefore = new TwoFactorAccount(ON - 2 * HOUR);
  lapsedBefore.start(SECRET_A);
  return new Map([
    ['u-enrolled-before', enrolledBefore],
    ['u-seen', seen],
    ['u-seen-later', seenLater],
    ['u-pending', pending],
    ['u-reset', reset],
    ['u-erased', erased],
    ['u-enrolled-after-sight', enrolledAfterSight],
    ['u-lapsed-before', lapsedBefore],
  ]);
}

type Placed = { streamName: string; userId: string | null; event: AnyEvent; revision: number };

/** Every event of the policy and the users, in the order of their time, as one log. */
function logOf(users: ReadonlyMap<string, TwoFactorAccount>, policy: readonly TwoFactorRequirementChanged[]) {
  const placed: Placed[] = policy.map((event, revision) => ({
    streamName: POLICY_STREAM,
    userId: null,
    event,
    revision,
  }));
  for (const [userId, account] of users) {
    account.events.forEach((event, revision) => {
      placed.push({ streamName: `two-factor-${userId}`, userId, event, revision });
    });
  }
  return placed.sort(
    (a, b) =>
      Date.parse((a.event.data as { at: string }).at) - Date.parse((b.event.data as { at: string }).at),
  );
}

function project(
  users: ReadonlyMap<string, TwoFactorAccount>,
  policy: readonly TwoFactorRequirementChanged[],
) {
  const db = new Database(':memory:');
  usersProjection.migrate(db);
  logOf(users, policy).forEach(({ streamName, userId, event, revision }, index) => {
    const { stored } = toStoredEvents(streamName, BigInt(revision), 'genesis', [event]);
    const one = stored[0]!;
    usersProjection.apply(
      db,
      projectedEvent({
        ...one,
        data: userId === null ? one.data : { ...one.data, userId },
        streamName,
        revision: BigInt(revision),
        position: BigInt(index + 1),
        recordedAt: new Date(T0),
      }),
    );
  });
  return db;
}

/** What the domain's status document says of every user at `nowMs`, under `policy`. */
function domainView(
  users: ReadonlyMap<string, TwoFactorAccount>,
  policy: readonly TwoFactorRequirementChanged[],
  nowMs: number,
) {
  const policyState = policy.reduce(evolvePolicy, initialPolicyState());
  return new Map(
    [...users].map(([userId, account]) => [
      userId,
      twoFactorStatus(userId, account.state, {
        nowMs,
        requireTwoFactor: policyState.requireTwoFactor,
        requirement: requirementOf(policyState),
      }),
    ]),
  );
}

/** Each recorded deadline's edges under the final policy, after the last event. */
const MOMENTS = [ON + 11 * HOUR]
  .concat([ON + HOUR, ON + 9 * HOUR, ON + 2 * HOUR].map((seenAt) => seenAt + 24 * HOUR))
  .flatMap((ms) => [ms - 1, ms, ms + 1])
  .sort((a, b) => a - b);

describe('the user list and its summary while 2FA is required', () => {
  const users = accounts();
  const db = project(users, policyHistory);
  // Seen without 2FA in this period and not enrolled; the erased one is forgotten, the
  // lapsed one was never seen while it was required.
  const required = ['u-pending', 'u-reset', 'u-seen', 'u-seen-later'];

  it('status=required lists the users seen without 2FA who have not enrolled, each with the domain’s enrollBy', () => {
    for (const nowMs of MOMENTS) {
      const domain = domainView(users, policyHistory, nowMs);
      const listed = listUsers(db, { nowMs, status: 'required', limit: 500 }).users;
      expect(listed.map((user) => user.userId)).toEqual(required);
      for (const user of listed) {
        expect(domain.get(user.userId)!.enrollmentRequired).toBe(true);
        expect(user.enrollBy, `${user.userId} at ${nowMs - T0}`).toBe(domain.get(user.userId)!.enrollBy);
      }
    }
    // The grace was cut to 24 hours: the deadlines follow (the reset one has no grace at all).
    const byId = new Map(
      listUsers(db, { nowMs: ON + 11 * HOUR, status: 'required' }).users.map((u) => [u.userId, u.enrollBy]),
    );
    expect(byId.get('u-seen')).toBe(new Date(ON + HOUR + 24 * HOUR).toISOString());
    expect(byId.get('u-reset')).toBe(new Date(ON + 3 * HOUR).toISOString());
    expect(byId.get('u-pending')).toBe(new Date(ON + 2 * HOUR + 24 * HOUR).toISOString());
  });

  it('every row has enrollBy: null for the enrolled, the forgotten and those never seen while required', () => {
    const all = listUsers(db, { nowMs: ON + 11 * HOUR, limit: 500 }).users;
    expect(all.map((user) => user.userId)).toEqual([...users.keys()].sort());
    for (const user of all) {
      expect(user).toHaveProperty('enrollBy');
      if (!required.includes(user.userId)) expect(user.enrollBy, user.userId).toBeNull();
    }
  });

  it('the summary counts what the domain says, at every deadline’s edge', () => {
    for (const nowMs of MOMENTS) {
      const domain = [...domainView(users, policyHistory, nowMs).values()];
      const enrolled = domain.filter((status) => status.status === 'enabled').length;
      const past = domain.filter(
        (status) =>
          required.includes(status.userId) &&
          status.enrollBy !== null &&
          Date.parse(status.enrollBy) <= nowMs,
      ).length;
      expect(usersSummary(db, nowMs), `at ${nowMs - T0}`).toEqual({
        requireTwoFactor: true,
        gracePeriodHours: 24,
        requiredSince: new Date(ON).toISOString(),
        seenUsers: enrolled + required.length,
        enrolledUsers: enrolled,
        pastDeadline: past,
        asOf: new Date(nowMs).toISOString(),
      });
    }
    // The edges are crossed: from the reset user alone to all four.
    expect(usersSummary(db, ON + 11 * HOUR).pastDeadline).toBe(1);
    expect(usersSummary(db, ON + 33 * HOUR).pastDeadline).toBe(4);
    expect(usersSummary(db, ON + 11 * HOUR)).toMatchObject({ seenUsers: 6, enrolledUsers: 2 });
  });

  it('a status filter keeps its own meaning beside required', () => {
    const pending = listUsers(db, { nowMs: ON + 2 * HOUR + MINUTE, status: 'pending' }).users;
    expect(pending.map((user) => user.userId)).toEqual(['u-pending']);
    expect(pending[0]!.enrollBy).not.toBeNull();
  });
});

describe('the user list when the requirement is lifted, and turned on again', () => {
  const users = accounts();
  const off = requirementChanged(false, true, ON + 20 * HOUR, 0, 24);
  const onAgain = requirementChanged(true, false, ON + 30 * HOUR, 72, 0);

  it('lifted: nobody is required, no row has a deadline, and seen users are the enrolled ones', () => {
    const db = project(users, [...policyHistory, off]);
    const nowMs = ON + 21 * HOUR;
    expect(listUsers(db, { nowMs, status: 'required' }).users).toEqual([]);
    expect(listUsers(db, { nowMs }).users.every((user) => user.enrollBy === null)).toBe(true);
    expect(usersSummary(db, nowMs)).toMatchObject({
      requireTwoFactor: false,
      requiredSince: null,
      seenUsers: 2,
      enrolledUsers: 2,
      pastDeadline: 0,
    });
  });

  it('on again: a new period, in which nobody is listed until seen again', () => {
    const db = project(users, [...policyHistory, off, onAgain]);
    const nowMs = ON + 31 * HOUR;
    expect(listUsers(db, { nowMs, status: 'required' }).users).toEqual([]);
    expect(usersSummary(db, nowMs)).toMatchObject({ requiredSince: new Date(ON + 30 * HOUR).toISOString() });
    const seenAgain = new Map(users);
    const again = new TwoFactorAccount(ON + 31 * HOUR);
    again.see(requirement(ON + 30 * HOUR, 72));
    seenAgain.set('u-seen-again', again);
    const withSight = project(seenAgain, [...policyHistory, off, onAgain]);
    expect(listUsers(withSight, { nowMs, status: 'required' }).users).toEqual([
      expect.objectContaining({
        userId: 'u-seen-again',
        enrollBy: new Date(ON + 31 * HOUR + 72 * HOUR).toISOString(),
      }),
    ]);
  });
});
