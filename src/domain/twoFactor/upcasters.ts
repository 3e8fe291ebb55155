import type { UpcasterRegistry } from '../shared/upcast.ts';
import { DEFAULT_AUTHENTICATOR_NAME, FIRST_AUTHENTICATOR_ID } from './authenticatorNames.ts';
import type { Factor } from './lockout.ts';

/*
 * Upcasters of the 2FA events, keyed by type and the version they lift from.
 *
 * Version 2 of the lockout's events: each factor (the authenticator app, the recovery codes)
 * has a lockout of its own. Before, one lockout counted every failure; its locks only ever
 * kept TOTP codes out (recovery codes were still checked, and a right one cleared the lock),
 * which is what a lock of the app means now. So version 1 events read as: a failure or a
 * refusal of the factor its method names, a lock of the app, an unlock of the app, and a
 * recovery code that reset the app's lockout whole. Counts are not rewritten: the fold counts
 * each factor's failures by their method.
 */

/*
 * Version 2 of the enrollment and verification events: a user has several authenticator
 * apps, each with an id and a name. Before, a user had one; every version 1 event that
 * concerns it reads as concerning authenticator `auth_1`, named "Authenticator app" (a
 * replacement's new app takes that id over: the old one is gone with it). A recovery code
 * names no authenticator.
 */

const authenticatorOfMethod = (method: unknown): string | null =>
  method === 'totp' ? FIRST_AUTHENTICATOR_ID : null;

const named = (data: Record<string, unknown>) => ({
  ...data,
  authenticatorId: FIRST_AUTHENTICATOR_ID,
  name: DEFAULT_AUTHENTICATOR_NAME,
});

const factorOfMethod = (method: unknown): Factor => (method === 'recovery-code' ? 'recovery-codes' : 'app');

export const twoFactorUpcasters: UpcasterRegistry = {
  VerificationFailed: { 1: (data) => ({ ...data, factor: factorOfMethod(data.method) }) },
  // A refused recovery code (only while the lock was for good) was refused by that one lock.
  VerificationRefused: { 1: (data) => ({ ...data, factor: 'app' }) },
  FactorLocked: { 1: (data) => ({ ...data, factor: 'app' }) },
  RefusedAttemptsCounted: { 1: (data) => ({ ...data, factor: 'app' }) },
  LockoutCleared: { 1: (data) => ({ ...data, lockedFactors: data.wasLocked === true ? ['app'] : [] }) },
  RecoveryCodeConsumed: { 1: (data) => ({ ...data, appLockout: 'reset' }) },
  EnrollmentStarted: {
    1: (data) => {
      const proof = data.proof as { method?: unknown } | null | undefined;
      return {
        ...named(data),
        proof: proof ? { ...proof, authenticatorId: authenticatorOfMethod(proof.method) } : null,
      };
    },
  },
  TwoFactorEnabled: { 1: named },
  AuthenticatorReplaced: { 1: named },
  SignInVerified: { 1: (data) => ({ ...data, authenticatorId: authenticatorOfMethod(data.method) }) },
  CodesRegenerated: { 1: (data) => ({ ...data, authenticatorId: FIRST_AUTHENTICATOR_ID }) },
  TwoFactorDisabled: { 1: (data) => ({ ...data, authenticatorId: authenticatorOfMethod(data.method) }) },
  SecretsResealed: {
    1: ({ authenticator, ...data }) => ({
      ...data,
      authenticators:
        authenticator === null || authenticator === undefined
          ? []
          : [{ authenticatorId: FIRST_AUTHENTICATOR_ID, secret: authenticator }],
    }),
  },
};
