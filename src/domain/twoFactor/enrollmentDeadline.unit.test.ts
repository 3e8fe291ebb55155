import { describe, expect, it } from 'vitest';
import {
  evolvePolicy,
  initialPolicyState,
  type PolicyState,
  requirementOf,
  type TwoFactorRequirementChanged,
} from '../policy/policy.ts';
import { HOUR, iso, MINUTE, T0 } from '../testing/clock.ts';
import { disableTwoFactor, totpProof } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { adminReset, userErased } from '../testing/events.ts';
import { afterAdminReset, enabled, neverEnrolled, pendingLive } from '../testing/histories.ts';
import {
  enrollmentDeadlineRecorded as deadlineRecorded,
  requirementChanged as policyChanged,
  requirement,
  resetUnder,
  recordEnrollmentDeadline as seen,
} from '../testing/requirement.ts';
import { twoFactorDecider } from './decider.ts';
import { deadlineIsDue, enrollByMs } from './enrollmentDeadline.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';
import { twoFactorStatus } from './status.ts';

const spec = deciderSpecification(twoFactorDecider);

/** Required since an hour before T0, with a grace period of 72 hours. */
const SINCE = T0 - HOUR;
const GRACE = requirement(SINCE, 72);

const policyOf = (history: readonly TwoFactorRequirementChanged[]): PolicyState =>
  history.reduce(evolvePolicy, initialPolicyState());
const stateOf = (history: readonly TwoFactorEvent[]) => history.reduce(evolve, initialState());

/**
 * The status document as it stood at `atMs`: both histories folded up to that moment, as the
 * audit replays them.
 */
function statusAt(
  policy: readonly TwoFactorRequirementChanged[],
  user: readonly TwoFactorEvent[],
  atMs: number,
) {
  const upTo = <E extends { data: { at: string } }>(events: readonly E[]) =>
    events.filter((event) => Date.parse(event.data.at) <= atMs);
  const policyThen = policyOf(upTo(policy));
  return twoFactorStatus('user-1', stateOf(upTo(user)), {
    nowMs: atMs,
    requireTwoFactor: policyThen.requireTwoFactor,
    requirement: requirementOf(policyThen),
  });
}

describe('require 2FA: the first sight of a user without 2FA records their deadline', () => {
  it('a user never seen, seen while 2FA is required, gets max(start, first seen) + grace', () => {
    const { state } = spec
      .given(neverEnrolled)
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([deadlineRecorded(T0, GRACE)]);
    expect(state.enrollmentDeadline).toEqual({ requiredSinceMs: SINCE, fromMs: T0, graceApplies: true });
    expect(deadlineRecorded(T0, GRACE).data.enrollBy).toBe(iso(T0 + 72 * HOUR));
  });

  it('is recorded once per period: a later sight records nothing, and the deadline does not move', () => {
    spec
      .given([deadlineRecorded(T0 - 30 * MINUTE, GRACE)])
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([]);
    const state = stateOf([deadlineRecorded(T0 - 30 * MINUTE, GRACE)]);
    expect(enrollByMs(state.enrollmentDeadline, GRACE, T0 + 10 * HOUR)).toBe(T0 - 30 * MINUTE + 72 * HOUR);
  });

  it('records nothing while 2FA is not required', () => {
    spec
      .given(neverEnrolled)
      .when(seen({ nowMs: T0, requirement: null }))
      .then([]);
  });

  it('records nothing for a user who has 2FA', () => {
    spec
      .given(enabled)
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([]);
    expect(deadlineIsDue(stateOf(enabled), GRACE)).toBe(false);
  });

  it('a user mid-enrollment (pending) is seen like any user without 2FA, and stays required until enabled', () => {
    spec
      .given(pendingLive)
      .when(seen({ nowMs: T0, requirement: GRACE, seenThrough: 'enrollment' }))
      .then([deadlineRecorded(T0, GRACE, 'enrollment')]);
    const history = [...pendingLive, deadlineRecorded(T0, GRACE, 'enrollment')];
    expect(statusAt([policyChanged(true, false, SINCE, 72)], history, T0)).toMatchObject({
      status: 'pending',
      enrollmentRequired: true,
      enrollBy: iso(T0 + 72 * HOUR),
    });
  });

  it('a grace of 0 hours: the deadline is the first sight itself, so setup is due at once', () => {
    spec
      .given(neverEnrolled)
      .when(seen({ nowMs: T0, requirement: requirement(SINCE, 0) }))
      .then([deadlineRecorded(T0, requirement(SINCE, 0))]);
    expect(deadlineRecorded(T0, requirement(SINCE, 0)).data.enrollBy).toBe(iso(T0));
    const policy = [policyChanged(true, false, SINCE, 0)];
    expect(statusAt(policy, [deadlineRecorded(T0, requirement(SINCE, 0))], T0)).toMatchObject({
      enrollmentRequired: true,
      enrollBy: iso(T0),
      canDefer: false,
    });
  });

  it('a user first seen before the period began (a clock behind) is given the grace from the start', () => {
    const early = deadlineRecorded(SINCE - MINUTE, GRACE);
    expect(early.data.enrollBy).toBe(iso(SINCE + 72 * HOUR));
    expect(enrollByMs(stateOf([early]).enrollmentDeadline, GRACE, T0)).toBe(SINCE + 72 * HOUR);
  });
});

describe('require 2FA: the deadline follows the policy in force', () => {
  const turnedOn = policyChanged(true, false, SINCE, 72);
  const firstSeen = deadlineRecorded(T0, GRACE);

  it('the status shows enrollmentRequired and enrollBy; an enabled user is not required to enroll', () => {
    expect(statusAt([turnedOn], [firstSeen], T0 + HOUR)).toMatchObject({
      status: 'disabled',
      required: true,
      enrollmentRequired: true,
      enrollBy: iso(T0 + 72 * HOUR),
      canDefer: true,
      canDisable: false,
    });
    // At the deadline itself setup is due: the user can no longer defer.
    expect(statusAt([turnedOn], [firstSeen], T0 + 72 * HOUR)).toMatchObject({ canDefer: false });
    expect(statusAt([turnedOn], [firstSeen], T0 + 72 * HOUR - 1)).toMatchObject({ canDefer: true });
    expect(statusAt([turnedOn], enabled, T0)).toMatchObject({
      required: true,
      enrollmentRequired: false,
      enrollBy: null,
      canDefer: false,
    });
  });

  it('a longer grace moves every open deadline later, with no event for the user', () => {
    const longer = policyChanged(true, true, T0 + HOUR, 168, 72);
    expect(statusAt([turnedOn, longer], [firstSeen], T0 + 2 * HOUR).enrollBy).toBe(iso(T0 + 168 * HOUR));
  });

  it('a shorter grace applies to a user who already deferred: past the new deadline, setup is due at once', () => {
    // Seen at T0 with 72 hours; deferred for two days; then the grace is cut to 24 hours.
    const shorter = policyChanged(true, true, T0 + 48 * HOUR, 24, 72);
    const now = T0 + 48 * HOUR + MINUTE;
    const status = statusAt([turnedOn, shorter], [firstSeen], now);
    expect(status).toMatchObject({ enrollBy: iso(T0 + 24 * HOUR), canDefer: false });
    // Just before the change, the same user still had the longer deadline, and could defer.
    expect(statusAt([turnedOn, shorter], [firstSeen], T0 + 48 * HOUR - 1)).toMatchObject({
      enrollBy: iso(T0 + 72 * HOUR),
      canDefer: true,
    });
  });

  it('setting the requirement again (same or other grace) continues the period: nothing is recorded anew', () => {
    const again = policyChanged(true, true, T0 + HOUR, 72, 72);
    const policy = policyOf([turnedOn, again]);
    expect(requirementOf(policy)).toEqual(GRACE);
    spec
      .given([firstSeen])
      .when(seen({ nowMs: T0 + 2 * HOUR, requirement: requirementOf(policy) }))
      .then([]);
  });

  it('turned off: nobody is required to enroll, and no deadline is shown or recorded', () => {
    const off = policyChanged(false, true, T0 + HOUR, 0, 72);
    expect(statusAt([turnedOn, off], [firstSeen], T0 + 2 * HOUR)).toMatchObject({
      required: false,
      enrollmentRequired: false,
      enrollBy: null,
    });
    spec
      .given([firstSeen])
      .when(seen({ nowMs: T0 + 2 * HOUR, requirement: requirementOf(policyOf([turnedOn, off])) }))
      .then([]);
  });

  it('turned off and on again: a new period, in which everyone is first seen afresh', () => {
    const off = policyChanged(false, true, T0 + HOUR, 0, 72);
    const onAgain = policyChanged(true, false, T0 + 10 * HOUR, 72, 0);
    const newPeriod = requirementOf(policyOf([turnedOn, off, onAgain]))!;
    expect(newPeriod).toEqual(requirement(T0 + 10 * HOUR, 72));
    // The deadline of the first period no longer counts: until seen again, it is what a sight now would record.
    expect(statusAt([turnedOn, off, onAgain], [firstSeen], T0 + 11 * HOUR).enrollBy).toBe(
      iso(T0 + 11 * HOUR + 72 * HOUR),
    );
    const { state } = spec
      .given([firstSeen])
      .when(seen({ nowMs: T0 + 12 * HOUR, requirement: newPeriod }))
      .then([deadlineRecorded(T0 + 12 * HOUR, newPeriod)]);
    expect(enrollByMs(state.enrollmentDeadline, newPeriod, T0 + 13 * HOUR)).toBe(T0 + 12 * HOUR + 72 * HOUR);
  });
});

describe('require 2FA: reset, disable, erasure', () => {
  it('an emergency reset of a user with 2FA, while it is required: enroll again at the next sign-in, no new grace', () => {
    const { state } = spec
      .given(enabled)
      .when(resetUnder(T0, GRACE))
      .then([adminReset(T0, 'enabled'), deadlineRecorded(T0, GRACE, 'reset')]);
    expect(state.enrollmentDeadline).toEqual({ requiredSinceMs: SINCE, fromMs: T0, graceApplies: false });
    expect(enrollByMs(state.enrollmentDeadline, GRACE, T0 + MINUTE)).toBe(T0);
    // A later, longer grace is for first enrollments: the reset user's deadline stays.
    expect(enrollByMs(state.enrollmentDeadline, requirement(SINCE, 168), T0 + MINUTE)).toBe(T0);
  });

  it('the next sight after such a reset records nothing more: the reset set the deadline', () => {
    spec
      .given([...enabled, adminReset(T0 - MINUTE, 'enabled'), deadlineRecorded(T0 - MINUTE, GRACE, 'reset')])
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([]);
  });

  it('a reset of a user without 2FA changes no deadline: recorded and harmless', () => {
    const seenBefore = deadlineRecorded(T0 - HOUR, GRACE);
    const { state } = spec
      .given([...pendingLive, seenBefore])
      .when(resetUnder(T0, GRACE))
      .then([adminReset(T0, 'pending')]);
    expect(enrollByMs(state.enrollmentDeadline, GRACE, T0)).toBe(T0 - HOUR + 72 * HOUR);
  });

  it('a reset while 2FA is not required records no deadline; the user gets the grace when it is required later', () => {
    spec
      .given(enabled)
      .when(resetUnder(T0, null))
      .then([adminReset(T0, 'enabled')]);
    spec
      .given(afterAdminReset)
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([deadlineRecorded(T0, GRACE)]);
  });

  it('a user cannot disable 2FA while it is required, so never loses it to start a grace period', () => {
    spec
      .given(enabled)
      .when(disableTwoFactor({ nowMs: T0, proof: totpProof('123456', null), requireTwoFactor: true }))
      .thenThrows('two-factor-required');
  });

  it('an erased user is forgotten: seen again while required, the id starts afresh', () => {
    const history = [deadlineRecorded(T0 - 10 * HOUR, GRACE), userErased(T0 - HOUR, 'disabled')];
    expect(stateOf(history).enrollmentDeadline).toBeNull();
    spec
      .given(history)
      .when(seen({ nowMs: T0, requirement: GRACE }))
      .then([deadlineRecorded(T0, GRACE)]);
  });
});

describe('require 2FA: the status at a past moment shows the deadline as it stood then', () => {
  const turnedOn = policyChanged(true, false, SINCE, 72);
  const shorter = policyChanged(true, true, T0 + 10 * HOUR, 24, 72);
  const off = policyChanged(false, true, T0 + 20 * HOUR, 0, 24);
  const policy = [turnedOn, shorter, off];
  const user = [deadlineRecorded(T0, GRACE)];

  it.each([
    [
      'before the requirement',
      SINCE - MINUTE,
      { required: false, enrollmentRequired: false, enrollBy: null },
    ],
    // Not yet seen: what a read at that moment would have recorded.
    [
      'required, before the first sight',
      T0 - MINUTE,
      { enrollmentRequired: true, enrollBy: iso(T0 - MINUTE + 72 * HOUR) },
    ],
    ['after the first sight', T0 + HOUR, { enrollmentRequired: true, enrollBy: iso(T0 + 72 * HOUR) }],
    [
      'after the grace was shortened',
      T0 + 11 * HOUR,
      { enrollmentRequired: true, enrollBy: iso(T0 + 24 * HOUR) },
    ],
    [
      'after the requirement was lifted',
      T0 + 21 * HOUR,
      { required: false, enrollmentRequired: false, enrollBy: null },
    ],
  ])('%s', (_moment, atMs, expected) => {
    expect(statusAt(policy, user, atMs)).toMatchObject(expected);
  });
});
