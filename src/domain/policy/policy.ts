import type { Command, Decider, Event } from '../shared/message.ts';
import { type EnrollmentRequirement, isGracePeriodHours } from '../twoFactor/enrollmentDeadline.ts';

/** The instance policy, stream `policy-instance`. */
export const POLICY_STREAM = 'policy-instance';

export type PolicyState = {
  readonly requireTwoFactor: boolean;
  /** how long a user without 2FA may defer setting it up, from when the service first sees them */
  readonly gracePeriodHours: number;
  /** when the current period of the requirement began (turned on); null while not required */
  readonly requiredSince: string | null;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
};

export type ChangeTwoFactorRequirement = Command<
  'ChangeTwoFactorRequirement',
  { readonly requireTwoFactor: boolean; readonly gracePeriodHours: number; readonly nowMs: number }
>;

export type TwoFactorRequirementChanged = Event<
  'TwoFactorRequirementChanged',
  {
    readonly requireTwoFactor: boolean;
    readonly previous: boolean;
    readonly at: string;
    /** since version 2; version 1 events read as 0 (there was no grace period then) */
    readonly gracePeriodHours: number;
    readonly previousGracePeriodHours: number;
  }
>;

/** 2: the grace period (`gracePeriodHours`, `previousGracePeriodHours`). */
export const POLICY_SCHEMA_VERSIONS = { TwoFactorRequirementChanged: 2 } as const;

export const initialPolicyState = (): PolicyState => ({
  requireTwoFactor: false,
  gracePeriodHours: 0,
  requiredSince: null,
  updatedAt: null,
  updatedBy: null,
});

/**
 * Setting the requirement while it is in force (to change the grace, or again) continues its
 * period; turning it off ends it; turning it on starts a new one.
 */
export function evolvePolicy(state: PolicyState, event: TwoFactorRequirementChanged): PolicyState {
  const { requireTwoFactor, at, gracePeriodHours } = event.data;
  return {
    requireTwoFactor,
    gracePeriodHours,
    requiredSince: requireTwoFactor ? ((state.requireTwoFactor ? state.requiredSince : null) ?? at) : null,
    updatedAt: at,
    updatedBy: event.metadata.actor.id,
  };
}

/** Every change is recorded, even one that sets what is already set: it is an admin's act. */
export function decidePolicy(
  command: ChangeTwoFactorRequirement,
  state: PolicyState,
): readonly TwoFactorRequirementChanged[] {
  const { requireTwoFactor, gracePeriodHours, nowMs } = command.data;
  if (!isGracePeriodHours(gracePeriodHours)) {
    throw new RangeError(`gracePeriodHours must be a whole number from 0 to 8760, not ${gracePeriodHours}`);
  }
  return [
    {
      type: 'TwoFactorRequirementChanged',
      data: {
        requireTwoFactor,
        previous: state.requireTwoFactor,
        at: new Date(nowMs).toISOString(),
        gracePeriodHours,
        previousGracePeriodHours: state.gracePeriodHours,
      },
      metadata: { ...command.metadata, schemaVersion: POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged },
    },
  ];
}

/** The requirement as the users' deadline rules read it: null while 2FA is not required. */
export function requirementOf(state: PolicyState): EnrollmentRequirement | null {
  if (!state.requireTwoFactor || state.requiredSince === null) return null;
  return { sinceMs: Date.parse(state.requiredSince), gracePeriodHours: state.gracePeriodHours };
}

export const policyDecider: Decider<PolicyState, ChangeTwoFactorRequirement, TwoFactorRequirementChanged> = {
  initialState: initialPolicyState,
  evolve: evolvePolicy,
  decide: decidePolicy,
};
