import type { CommandMetadata } from '../shared/message.ts';
import type { EncryptedSecret } from '../twoFactor/encryptedSecret.ts';
import type {
  AdminReset,
  AppLockoutEffect,
  AuthenticatorReplaced,
  CodesRegenerated,
  EnrollmentConfirmationFailed,
  EnrollmentStarted,
  FactorLocked,
  LockoutCleared,
  ProofMethod,
  RecoveryCodeConsumed,
  RefusedAttemptsCounted,
  SecretsResealed,
  SignInVerified,
  TwoFactorDisabled,
  TwoFactorEnabled,
  TwoFactorEvent,
  TwoFactorEventType,
  UserErased,
  VerificationFailed,
  VerificationPurpose,
  VerificationRefused,
} from '../twoFactor/events.ts';
import { type Factor, factorOf } from '../twoFactor/lockout.ts';
import type { RecoveryCodeSet } from '../twoFactor/recoveryCodes.ts';
import { iso } from './clock.ts';
import { ADMIN, USER_ID, WEB } from './metadata.ts';

/**
 * Builders of the events a specification expects, in the order the domain emits their
 * fields. Each is stamped with the schema version its type has today, written out here and
 * not read from the schema, so that a change of format shows up as a failing expectation.
 */
type EventOf<T extends TwoFactorEventType> = Extract<TwoFactorEvent, { type: T }>;

/** Version 2: each factor (the app, the recovery codes) has a lockout of its own. */
export const CURRENT_SCHEMA_VERSIONS: Readonly<Record<TwoFactorEventType, number>> = {
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

export function event<T extends TwoFactorEventType>(
  type: T,
  data: EventOf<T>['data'],
  metadata: CommandMetadata = WEB,
): EventOf<T> {
  return {
    type,
    data,
    metadata: { ...metadata, schemaVersion: CURRENT_SCHEMA_VERSIONS[type] },
  } as EventOf<T>;
}

const at = (nowMs: number) => ({ userId: USER_ID, at: iso(nowMs) });

export const ENROLLMENT_TTL = 15 * 60_000;

export const enrollmentStarted = (
  nowMs: number,
  secret: EncryptedSecret,
  replacementProof: { readonly method: ProofMethod; readonly step: number | null } | null = null,
): EnrollmentStarted =>
  event('EnrollmentStarted', {
    ...at(nowMs),
    secret,
    expiresAt: iso(nowMs + ENROLLMENT_TTL),
    replacement: replacementProof !== null,
    proof: replacementProof,
  });

export const enrollmentConfirmationFailed = (nowMs: number): EnrollmentConfirmationFailed =>
  event('EnrollmentConfirmationFailed', at(nowMs));

export const twoFactorEnabled = (
  nowMs: number,
  secret: EncryptedSecret,
  step: number,
  recoveryCodes: RecoveryCodeSet,
): TwoFactorEnabled => event('TwoFactorEnabled', { ...at(nowMs), secret, step, recoveryCodes });

export const authenticatorReplaced = (
  nowMs: number,
  secret: EncryptedSecret,
  step: number,
  recoveryCodes: RecoveryCodeSet,
): AuthenticatorReplaced => event('AuthenticatorReplaced', { ...at(nowMs), secret, step, recoveryCodes });

export const signInVerified = (nowMs: number, method: ProofMethod, step: number | null): SignInVerified =>
  event('SignInVerified', { ...at(nowMs), method, step });

export const recoveryCodeConsumed = (
  nowMs: number,
  index: number,
  remaining: number,
  purpose: VerificationPurpose,
  appLockout: AppLockoutEffect = 'kept',
): RecoveryCodeConsumed =>
  event('RecoveryCodeConsumed', { ...at(nowMs), index, remaining, purpose, appLockout });

export const codesRegenerated = (
  nowMs: number,
  step: number,
  recoveryCodes: RecoveryCodeSet,
): CodesRegenerated => event('CodesRegenerated', { ...at(nowMs), step, recoveryCodes });

export const verificationFailed = (
  nowMs: number,
  consecutiveFailures: number,
  purpose: VerificationPurpose = 'sign-in',
  method: ProofMethod = 'totp',
): VerificationFailed =>
  event('VerificationFailed', {
    ...at(nowMs),
    purpose,
    method,
    factor: factorOf(method),
    consecutiveFailures,
  });

export const factorLocked = (
  nowMs: number,
  consecutiveFailures: number,
  lockedUntilMs: number | null,
  factor: Factor = 'app',
): FactorLocked =>
  event('FactorLocked', {
    ...at(nowMs),
    factor,
    consecutiveFailures,
    lockedUntil: lockedUntilMs === null ? null : iso(lockedUntilMs),
  });

export const verificationRefused = (
  nowMs: number,
  lockedUntilMs: number | null,
  purpose: VerificationPurpose = 'sign-in',
  method: ProofMethod = 'totp',
): VerificationRefused =>
  event('VerificationRefused', {
    ...at(nowMs),
    purpose,
    method,
    factor: factorOf(method),
    lockedUntil: lockedUntilMs === null ? null : iso(lockedUntilMs),
  });

export const twoFactorDisabled = (
  nowMs: number,
  method: ProofMethod,
  step: number | null,
): TwoFactorDisabled => event('TwoFactorDisabled', { ...at(nowMs), method, step });

export const adminReset = (
  nowMs: number,
  previousStatus: AdminReset['data']['previousStatus'],
  reason = 'lost phone and codes',
): AdminReset => event('AdminReset', { ...at(nowMs), reason, previousStatus }, ADMIN);

export const userErased = (
  nowMs: number,
  previousStatus: UserErased['data']['previousStatus'],
  reason = 'erasure request',
): UserErased => event('UserErased', { ...at(nowMs), reason, previousStatus }, ADMIN);

export const secretsResealed = (
  nowMs: number,
  authenticator: EncryptedSecret | null,
  pending: EncryptedSecret | null,
): SecretsResealed => event('SecretsResealed', { ...at(nowMs), authenticator, pending }, ADMIN);

export const lockoutCleared = (
  nowMs: number,
  wasLocked: boolean,
  lockedFactors: readonly Factor[] = wasLocked ? ['app'] : [],
): LockoutCleared => event('LockoutCleared', { ...at(nowMs), wasLocked, lockedFactors }, ADMIN);

export const refusedAttemptsCounted = (
  nowMs: number,
  attempts: number,
  firstAtMs: number,
  lastAtMs: number,
  endUserIps: readonly string[] = [],
  lockedUntilMs: number | null = null,
  factor: Factor = 'app',
): RefusedAttemptsCounted =>
  event('RefusedAttemptsCounted', {
    ...at(nowMs),
    factor,
    attempts,
    firstAt: iso(firstAtMs),
    lastAt: iso(lastAtMs),
    endUserIps,
    lockedUntil: lockedUntilMs === null ? null : iso(lockedUntilMs),
  });
