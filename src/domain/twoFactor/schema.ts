import type { TwoFactorEventType } from './events.ts';

/**
 * The current data format of each event type. Events are a permanent, public format: when a
 * format changes, its version goes up here and an upcaster from the old version is added to
 * `upcasters.ts`; history is never rewritten.
 */
export const TWO_FACTOR_SCHEMA_VERSIONS: Readonly<Record<TwoFactorEventType, number>> = {
  EnrollmentStarted: 2,
  EnrollmentConfirmationFailed: 1,
  TwoFactorEnabled: 2,
  AuthenticatorReplaced: 2,
  AuthenticatorAdded: 1,
  AuthenticatorConfirmed: 1,
  AuthenticatorRenamed: 1,
  AuthenticatorRemoved: 1,
  SignInVerified: 2,
  RecoveryCodeConsumed: 2,
  CodesRegenerated: 2,
  VerificationFailed: 2,
  FactorLocked: 2,
  VerificationRefused: 2,
  RefusedAttemptsCounted: 2,
  TwoFactorDisabled: 2,
  AdminReset: 1,
  LockoutCleared: 2,
  UserErased: 1,
  SecretsResealed: 2,
  EnrollmentDeadlineRecorded: 1,
};
