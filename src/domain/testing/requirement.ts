import type { ChangeTwoFactorRequirement, TwoFactorRequirementChanged } from '../policy/policy.ts';
import type { CommandMetadata } from '../shared/message.ts';
import type { RecordEnrollmentDeadline, ResetTwoFactor } from '../twoFactor/commands.ts';
import type { EnrollmentRequirement } from '../twoFactor/enrollmentDeadline.ts';
import type { EnrollmentDeadlineRecorded, SeenThrough } from '../twoFactor/events.ts';
import { HOUR, iso } from './clock.ts';
import { resetTwoFactor } from './commands.ts';
import { CURRENT_SCHEMA_VERSIONS } from './events.ts';
import { ADMIN, USER_ID, WEB } from './metadata.ts';

/* Builders for the specifications of "require 2FA" with a grace period. */

export const requirement = (sinceMs: number, gracePeriodHours = 0): EnrollmentRequirement => ({
  sinceMs,
  gracePeriodHours,
});

export const recordEnrollmentDeadline = (input: {
  readonly nowMs: number;
  readonly requirement: EnrollmentRequirement | null;
  readonly seenThrough?: Exclude<SeenThrough, 'reset'>;
  readonly metadata?: CommandMetadata;
}): RecordEnrollmentDeadline => ({
  type: 'RecordEnrollmentDeadline',
  data: {
    userId: USER_ID,
    nowMs: input.nowMs,
    requirement: input.requirement,
    seenThrough: input.seenThrough ?? 'status',
  },
  metadata: input.metadata ?? WEB,
});

/** The event the first sight (or, with `seenThrough: 'reset'`, a reset) records. */
export const enrollmentDeadlineRecorded = (
  nowMs: number,
  under: EnrollmentRequirement,
  seenThrough: SeenThrough = 'status',
  metadata: CommandMetadata = seenThrough === 'reset' ? ADMIN : WEB,
): EnrollmentDeadlineRecorded => {
  const graceApplies = seenThrough !== 'reset';
  const graceMs = graceApplies ? under.gracePeriodHours * HOUR : 0;
  return {
    type: 'EnrollmentDeadlineRecorded',
    data: {
      userId: USER_ID,
      at: iso(nowMs),
      requiredSince: iso(under.sinceMs),
      seenThrough,
      graceApplies,
      gracePeriodHours: under.gracePeriodHours,
      enrollBy: iso(Math.max(under.sinceMs, nowMs) + graceMs),
    },
    metadata: { ...metadata, schemaVersion: CURRENT_SCHEMA_VERSIONS.EnrollmentDeadlineRecorded },
  };
};

export const changeRequirement = (
  requireTwoFactor: boolean,
  nowMs: number,
  gracePeriodHours = 0,
  metadata: CommandMetadata = ADMIN,
): ChangeTwoFactorRequirement => ({
  type: 'ChangeTwoFactorRequirement',
  data: { requireTwoFactor, gracePeriodHours, nowMs },
  metadata,
});

/** A policy change as version 2 records it. */
export const requirementChanged = (
  requireTwoFactor: boolean,
  previous: boolean,
  nowMs: number,
  gracePeriodHours = 0,
  previousGracePeriodHours = 0,
  metadata: CommandMetadata = ADMIN,
): TwoFactorRequirementChanged => ({
  type: 'TwoFactorRequirementChanged',
  data: { requireTwoFactor, previous, at: iso(nowMs), gracePeriodHours, previousGracePeriodHours },
  metadata: { ...metadata, schemaVersion: 2 },
});

/** An emergency reset, with the requirement the handler read. */
export const resetUnder = (nowMs: number, under: EnrollmentRequirement | null): ResetTwoFactor => {
  const command = resetTwoFactor({ nowMs });
  return { ...command, data: { ...command.data, requirement: under } };
};
