import type { CommandMetadata } from '../shared/message.ts';
import { DEFAULT_AUTHENTICATOR_NAME, FIRST_AUTHENTICATOR_ID } from '../twoFactor/authenticatorNames.ts';
import type { EncryptedSecret } from '../twoFactor/encryptedSecret.ts';
import type {
  AdminReset,
  AppLockoutEffect,
  AuthenticatorAdded,
  AuthenticatorConfirmed,
  AuthenticatorRemoved,
  AuthenticatorRenamed,
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

/**
 * Version 2 of the lockout's events: each factor (the app, the recovery codes) has a lockout
 * of its own; of the enrollment and verification events: each names its authenticator.
 */
export const CURRENT_SCHEMA_VERSIONS: Readonly<Record<TwoFactorEventType, number>> = {
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

/** The first authenticator, as the builders below name it unless told otherwise. */
export const FIRST = { authenticatorId: FIRST_AUTHENTICATOR_ID, name: DEFAULT_AUTHENTICATOR_NAME } as const;

/** The authenticator whose code a TOTP proof was (`auth_1` unless told), none for a recovery code. */
const provenWith = (method: ProofMethod, authenticatorId: string = FIRST_AUTHENTICATOR_ID) =>
  method === 'totp' ? authenticatorId : null;

export const enrollmentStarted = (
  nowMs: number,
  secret: EncryptedSecret,
  replacementProof: {
    readonly method: ProofMethod;
    readonly step: number | null;
    readonly authenticatorId?: string | null;
  } | null = null,
  authenticator: { readonly authenticatorId: string; readonly name: string } = FIRST,
): EnrollmentStarted =>
  event('EnrollmentStarted', {
    ...at(nowMs),
    ...authenticator,
    secret,
    expiresAt: iso(nowMs + ENROLLMENT_TTL),
    replacement: replacementProof !== null,
    proof:
      replacementProof === null
        ? null
        : {
            method: replacementProof.method,
            step: replacementProof.step,
            authenticatorId:
              replacementProof.authenticatorId === undefined
                ? provenWith(replacementProof.method)
                : replacementProof.authenticatorId,
          },
  });

export const enrollmentConfirmationFailed = (nowMs: number): EnrollmentConfirmationFailed =>
  event('EnrollmentConfirmationFailed', at(nowMs));

export const twoFactorEnabled = (
  nowMs: number,
  secret: EncryptedSecret,
  step: number,
  recoveryCodes: RecoveryCodeSet,
  authenticator: { readonly authenticatorId: string; readonly name: string } = FIRST,
): TwoFactorEnabled =>
  event('TwoFactorEnabled', { ...at(nowMs), ...authenticator, secret, step, recoveryCodes });

export const authenticatorReplaced = (
  nowMs: number,
  secret: EncryptedSecret,
  step: number,
  recoveryCodes: RecoveryCodeSet,
  authenticator: { readonly authenticatorId: string; readonly name: string } = FIRST,
): AuthenticatorReplaced =>
  event('AuthenticatorReplaced', { ...at(nowMs), ...authenticator, secret, step, recoveryCodes });

export const signInVerified = (
  nowMs: number,
  method: ProofMethod,
  step: number | null,
  authenticatorId?: string,
): SignInVerified =>
  event('SignInVerified', {
    ...at(nowMs),
    method,
    step,
    authenticatorId: provenWith(method, authenticatorId),
  });

export const authenticatorAdded = (
  nowMs: number,
  authenticator: { readonly authenticatorId: string; readonly name: string },
  secret: EncryptedSecret,
  proof: { readonly method: ProofMethod; readonly step: number | null; readonly authenticatorId?: string },
): AuthenticatorAdded =>
  event('AuthenticatorAdded', {
    ...at(nowMs),
    ...authenticator,
    secret,
    expiresAt: iso(nowMs + ENROLLMENT_TTL),
    proof: {
      method: proof.method,
      step: proof.step,
      authenticatorId: provenWith(proof.method, proof.authenticatorId),
    },
  });

export const authenticatorConfirmed = (
  nowMs: number,
  authenticator: { readonly authenticatorId: string; readonly name: string },
  step: number,
): AuthenticatorConfirmed => event('AuthenticatorConfirmed', { ...at(nowMs), ...authenticator, step });

export const authenticatorRenamed = (
  nowMs: number,
  authenticatorId: string,
  name: string,
  previousName: string,
): AuthenticatorRenamed =>
  event('AuthenticatorRenamed', { ...at(nowMs), authenticatorId, name, previousName });

export const authenticatorRemoved = (
  nowMs: number,
  authenticator: { readonly authenticatorId: string; readonly name: string },
  proof: { readonly method: ProofMethod; readonly step: number | null; readonly authenticatorId?: string },
): AuthenticatorRemoved =>
  event('AuthenticatorRemoved', {
    ...at(nowMs),
    ...authenticator,
    proof: {
      method: proof.method,
      step: proof.step,
      authenticatorId: provenWith(proof.method, proof.authenticatorId),
    },
  });

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
  authenticatorId: string = FIRST_AUTHENTICATOR_ID,
): CodesRegenerated => event('CodesRegenerated', { ...at(nowMs), authenticatorId, step, recoveryCodes });

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
  authenticatorId?: string,
): TwoFactorDisabled =>
  event('TwoFactorDisabled', {
    ...at(nowMs),
    method,
    step,
    authenticatorId: provenWith(method, authenticatorId),
  });

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
): SecretsResealed =>
  event(
    'SecretsResealed',
    {
      ...at(nowMs),
      authenticators:
        authenticator === null ? [] : [{ authenticatorId: FIRST_AUTHENTICATOR_ID, secret: authenticator }],
      pending,
    },
    ADMIN,
  );

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
