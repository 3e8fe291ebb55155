import type { Command, Decider, Event } from '../shared/message.ts';

/** The instance policy, stream `policy-instance`. */
export const POLICY_STREAM = 'policy-instance';

export type PolicyState = {
  readonly requireTwoFactor: boolean;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
};

export type ChangeTwoFactorRequirement = Command<
  'ChangeTwoFactorRequirement',
  { readonly requireTwoFactor: boolean; readonly nowMs: number }
>;

export type TwoFactorRequirementChanged = Event<
  'TwoFactorRequirementChanged',
  { readonly requireTwoFactor: boolean; readonly previous: boolean; readonly at: string }
>;

export const POLICY_SCHEMA_VERSIONS = { TwoFactorRequirementChanged: 1 } as const;

export const initialPolicyState = (): PolicyState => ({
  requireTwoFactor: false,
  updatedAt: null,
  updatedBy: null,
});

export function evolvePolicy(_state: PolicyState, event: TwoFactorRequirementChanged): PolicyState {
  return {
    requireTwoFactor: event.data.requireTwoFactor,
    updatedAt: event.data.at,
    updatedBy: event.metadata.actor.id,
  };
}

/** Every change is recorded, even one that sets what is already set: it is an admin's act. */
export function decidePolicy(
  command: ChangeTwoFactorRequirement,
  state: PolicyState,
): readonly TwoFactorRequirementChanged[] {
  return [
    {
      type: 'TwoFactorRequirementChanged',
      data: {
        requireTwoFactor: command.data.requireTwoFactor,
        previous: state.requireTwoFactor,
        at: new Date(command.data.nowMs).toISOString(),
      },
      metadata: { ...command.metadata, schemaVersion: POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged },
    },
  ];
}

export const policyDecider: Decider<PolicyState, ChangeTwoFactorRequirement, TwoFactorRequirementChanged> = {
  initialState: initialPolicyState,
  evolve: evolvePolicy,
  decide: decidePolicy,
};
