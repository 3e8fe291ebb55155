import {
  initialPolicyState,
  POLICY_SCHEMA_VERSIONS,
  type PolicyState,
  policyDecider,
  type TwoFactorRequirementChanged,
} from '../domain/policy/policy.ts';
import { policyUpcasters } from '../domain/policy/upcasters.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { evolve } from '../domain/twoFactor/evolve.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import { initialState, type TwoFactorState } from '../domain/twoFactor/state.ts';
import { twoFactorUpcasters } from '../domain/twoFactor/upcasters.ts';
import type { AggregateKind } from './repository.ts';

export const twoFactorKind: AggregateKind<TwoFactorState, TwoFactorEvent> = {
  initialState,
  evolve,
  currentVersions: TWO_FACTOR_SCHEMA_VERSIONS,
  upcasters: twoFactorUpcasters,
  // 2: the lockout knows whether a refusal was recorded; recovery codes know the one used last
  // 3: the state knows when the user was last erased
  // 4: the state knows the user's enrollment deadline under "require 2FA"
  // 5: one lockout per factor (the authenticator app, the recovery codes)
  // 6: several named authenticators, each with its own replay step
  stateVersion: 6,
};

export const policyKind: AggregateKind<PolicyState, TwoFactorRequirementChanged> = {
  initialState: initialPolicyState,
  evolve: policyDecider.evolve,
  currentVersions: POLICY_SCHEMA_VERSIONS,
  upcasters: policyUpcasters,
  // 2: the grace period and the start of the requirement's period
  stateVersion: 2,
};
