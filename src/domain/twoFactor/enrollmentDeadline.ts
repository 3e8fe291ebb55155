import type { CommandMetadata } from '../shared/message.ts';
import type { RecordEnrollmentDeadline, ResetTwoFactor } from './commands.ts';
import type { EnrollmentDeadlineRecorded, SeenThrough } from './events.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from './schema.ts';

/*
 * "Require 2FA for all users" with a grace period. A user without 2FA may defer enrolling
 * until their deadline: `max(the requirement's start, when the service first saw the user
 * while it was required) + the grace period`.
 *
 * What a user's stream records is only when the service first saw them in a period of the
 * requirement (and in which period), never the grace itself: the deadline is computed from
 * that moment and the policy in force whenever it is asked for. So when an administrator
 * changes the grace — longer or shorter, for users who already deferred too — every open
 * deadline follows at once, without an event per user, and the status at any past moment
 * is the one the policy then in force gave. (Recording the deadline itself would need a
 * fan-out over every user at each policy change, and a shortened grace would not reach
 * users whose event was not rewritten in time: a known failure of other products.)
 *
 * A period of the requirement runs from turning it on to turning it off. Turned on again,
 * it is a new period: everyone's first sight starts afresh, with the grace then in force.
 */

/** The requirement in force, as the deadline rules read the policy; null while 2FA is not required. */
export type EnrollmentRequirement = {
  /** when the current period of the requirement began */
  readonly sinceMs: number;
  /** 0…GRACE_PERIOD_HOURS_MAX */
  readonly gracePeriodHours: number;
};

/** The longest grace period an administrator may give: a year. */
export const GRACE_PERIOD_HOURS_MAX = 8760;

export const HOUR_MS = 3_600_000;

/** A whole number of hours from 0 to a year. */
export const isGracePeriodHours = (hours: number): boolean =>
  Number.isInteger(hours) && hours >= 0 && hours <= GRACE_PERIOD_HOURS_MAX;

/** What a user's state keeps of their deadline: where it starts, in which period, with or without grace. */
export type EnrollmentDeadline = {
  /** the period of the requirement it belongs to (its start) */
  readonly requiredSinceMs: number;
  /** when the service first saw the user in that period, or reset them */
  readonly fromMs: number;
  /** false after an emergency reset: the user enrolls again at once */
  readonly graceApplies: boolean;
};

/** What the deadline rules read of a user's state. */
export type DeadlineFacts = {
  readonly enabled: boolean;
  readonly enrollmentDeadline: EnrollmentDeadline | null;
};

/** The user's deadline recorded in the current period, or null when none is (yet). */
export function deadlineInForce(
  deadline: EnrollmentDeadline | null,
  requirement: EnrollmentRequirement,
): EnrollmentDeadline | null {
  return deadline !== null && deadline.requiredSinceMs === requirement.sinceMs ? deadline : null;
}

/**
 * When the user must have enrolled by: from their recorded deadline under the policy in
 * force, or — not seen yet in this period — what seeing them at `nowMs` would record.
 */
export function enrollByMs(
  deadline: EnrollmentDeadline | null,
  requirement: EnrollmentRequirement,
  nowMs: number,
): number {
  const recorded = deadlineInForce(deadline, requirement);
  const fromMs = recorded?.fromMs ?? nowMs;
  const graceMs = (recorded?.graceApplies ?? true) ? requirement.gracePeriodHours * HOUR_MS : 0;
  return Math.max(requirement.sinceMs, fromMs) + graceMs;
}

/**
 * Whether seeing this user now must record their deadline: 2FA is required, the user has
 * none, and nothing is recorded for them in this period yet. False in the common case —
 * a read then writes nothing.
 */
export function deadlineIsDue(state: DeadlineFacts, requirement: EnrollmentRequirement | null): boolean {
  return (
    requirement !== null && !state.enabled && deadlineInForce(state.enrollmentDeadline, requirement) === null
  );
}

const iso = (ms: number): string => new Date(ms).toISOString();

function recorded(
  userId: string,
  nowMs: number,
  requirement: EnrollmentRequirement,
  seenThrough: SeenThrough,
  graceApplies: boolean,
  metadata: CommandMetadata,
): EnrollmentDeadlineRecorded {
  const deadline = { requiredSinceMs: requirement.sinceMs, fromMs: nowMs, graceApplies };
  return {
    type: 'EnrollmentDeadlineRecorded',
    data: {
      userId,
      at: iso(nowMs),
      requiredSince: iso(requirement.sinceMs),
      seenThrough,
      graceApplies,
      gracePeriodHours: requirement.gracePeriodHours,
      enrollBy: iso(enrollByMs(deadline, requirement, nowMs)),
    },
    metadata: { ...metadata, schemaVersion: TWO_FACTOR_SCHEMA_VERSIONS.EnrollmentDeadlineRecorded },
  };
}

/**
 * The first sight of a user without 2FA while it is required records their deadline, once
 * per period; anything else records nothing (so racing first reads, which all decide on the
 * same revision, append one event and the rest find it recorded on retry).
 */
export function decideEnrollmentDeadline(
  command: RecordEnrollmentDeadline,
  state: DeadlineFacts,
): readonly EnrollmentDeadlineRecorded[] {
  const { userId, nowMs, requirement, seenThrough } = command.data;
  if (requirement === null || !deadlineIsDue(state, requirement)) return [];
  return [recorded(userId, nowMs, requirement, seenThrough, true, command.metadata)];
}

/**
 * An emergency reset takes away the 2FA the requirement asked for: the user sets it up
 * again at their next sign-in, with no new grace period (the grace is for first
 * enrollments, and a reset obtained by deceiving the help desk must not open a window
 * without a second factor). A reset of a user without 2FA changes no deadline: it is
 * recorded and harmless. Only turning the requirement off and on again gives a new grace.
 */
export function deadlineAfterReset(
  command: ResetTwoFactor,
  state: DeadlineFacts,
): readonly EnrollmentDeadlineRecorded[] {
  const { userId, nowMs, requirement } = command.data;
  if (requirement === undefined || requirement === null || !state.enabled) return [];
  return [recorded(userId, nowMs, requirement, 'reset', false, command.metadata)];
}

/** The state's deadline after the event that records it. */
export const deadlineOf = (event: EnrollmentDeadlineRecorded): EnrollmentDeadline => ({
  requiredSinceMs: Date.parse(event.data.requiredSince),
  fromMs: Date.parse(event.data.at),
  graceApplies: event.data.graceApplies,
});
