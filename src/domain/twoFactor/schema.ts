import type { TwoFactorEventType } from './events.ts';

/**
 * The current data format of each event type. Events are a permanent, public format: when a
 * format changes, its version goes up here and an upcaster from the old version is added to
 * `upcasters.ts`; history is never rewritten.
 */
export const TWO_FACTOR_SCHEMA_VERSIONS: Readonly<Record<TwoFactorEventType, number>> = {
  EnrollmentStarted: 1,
  EnrollmentConfirmationFailed: 1,
  TwoFactorEnabled: 1,
  AuthenticatorReplaced: 1,
  SignInVerified: 1,
  RecoveryCodeConsumed: 2,
  CodesRegenerated: 1,
  VerificationFailed: 2,
  FactorLocked: 2,
  VerificationRefused: 2,
  RefusedAttemptsCounted: 2,
  TwoFactorDisabled: 1,
  AdminReset: 1,
  LockoutCleared: 2,
  UserErased: 1,
  SecretsResealed: 1,
  EnrollmentDeadlineRecorded: 1,
};
