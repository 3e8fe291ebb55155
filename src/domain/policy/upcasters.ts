import type { UpcasterRegistry } from '../shared/upcast.ts';

/**
 * Upcasters of the policy's events, keyed by type and the version they lift from. Version 1
 * of `TwoFactorRequirementChanged` knew no grace period: the requirement applied at the next
 * sign-in, which is a grace of 0 hours.
 */
export const policyUpcasters: UpcasterRegistry = {
  TwoFactorRequirementChanged: {
    1: (data) => ({ ...data, gracePeriodHours: 0, previousGracePeriodHours: 0 }),
  },
};
