import type { Event } from '../shared/message.ts';
import type { EncryptedSecret } from './encryptedSecret.ts';
import type { Factor } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';
import type { TwoFactorStatusName } from './state.ts';

/** What a code was presented for; every purpose counts towards the lockout. */
export type VerificationPurpose =
  | 'sign-in'
  | 'regenerate'
  | 'disable'
  | 'replace-authenticator'
  | 'enrollment'
  | 'add-authenticator'
  | 'remove-authenticator';
export type ProofMethod = 'totp' | 'recovery-code';

type At = { readonly userId: string; readonly at: string };

/**
 * Which of the user's authenticator apps an event concerns: an id of the form `auth_…`,
 * unique per user. Histories recorded when a user had one app (schema version 1) read as
 * authenticator `auth_1`, named "Authenticator app".
 */
type OfAuthenticator = { readonly authenticatorId: string };

/**
 * How a command was proven: the kind of code, the TOTP time step it was accepted at and the
 * authenticator whose code it was (a recovery code: both null).
 */
export type ProofRecord = {
  readonly method: ProofMethod;
  readonly step: number | null;
  readonly authenticatorId: string | null;
};

/** Version 2 added the authenticator it will become (id and name) and the proof's authenticator. */
export type EnrollmentStarted = Event<
  'EnrollmentStarted',
  At &
    OfAuthenticator & {
      readonly name: string;
      readonly secret: EncryptedSecret;
      readonly expiresAt: string;
      /** true when an enabled user enrolls a new authenticator (lost or new device) */
      readonly replacement: boolean;
      /** how a replacement was proven; null for a first enrollment */
      readonly proof: ProofRecord | null;
    }
>;

/**
 * A wrong code confirming a first enrollment, as recorded before such failures counted
 * towards the lockout. Still read; no longer decided: a failed confirmation is now a
 * `VerificationFailed` with purpose `enrollment`.
 */
export type EnrollmentConfirmationFailed = Event<'EnrollmentConfirmationFailed', At>;

type Enrolled = At &
  OfAuthenticator & {
    readonly name: string;
    readonly secret: EncryptedSecret;
    readonly step: number;
    readonly recoveryCodes: RecoveryCodeSet;
  };

/** 2FA on, with its first authenticator. Version 2 added the authenticator's id and name. */
export type TwoFactorEnabled = Event<'TwoFactorEnabled', Enrolled>;

/**
 * A replacement enrollment confirmed: the new authenticator replaces every one the user had
 * (the way back from a lost device), with fresh recovery codes. Version 2 added id and name.
 */
export type AuthenticatorReplaced = Event<'AuthenticatorReplaced', Enrolled>;

/**
 * One more authenticator app started beside the enabled ones, proven with a current code or a
 * recovery code; it counts once `AuthenticatorConfirmed` follows, before `expiresAt`.
 */
export type AuthenticatorAdded = Event<
  'AuthenticatorAdded',
  At &
    OfAuthenticator & {
      readonly name: string;
      readonly secret: EncryptedSecret;
      readonly expiresAt: string;
      readonly proof: ProofRecord;
    }
>;

/** An added authenticator's first code was right: it now signs in like the others. */
export type AuthenticatorConfirmed = Event<
  'AuthenticatorConfirmed',
  At & OfAuthenticator & { readonly name: string; readonly step: number }
>;

export type AuthenticatorRenamed = Event<
  'AuthenticatorRenamed',
  At & OfAuthenticator & { readonly name: string; readonly previousName: string }
>;

/**
 * An authenticator removed by its user, with proof. Removing the last one disables 2FA: a
 * `TwoFactorDisabled` follows it in the same commit.
 */
export type AuthenticatorRemoved = Event<
  'AuthenticatorRemoved',
  At & OfAuthenticator & { readonly name: string; readonly proof: ProofRecord }
>;

/** A right code at sign-in. Version 2 added the authenticator whose code it was (null: a recovery code). */
export type SignInVerified = Event<
  'SignInVerified',
  At & { readonly method: ProofMethod; readonly step: number | null; readonly authenticatorId: string | null }
>;

/**
 * What a right recovery code did to the authenticator app's lockout: left it as it was (not
 * locked, or disabled: that needs a replacement or an administrator), ended its temporary
 * lock (its count goes on), or reset it whole — what every recovery code did before each
 * factor had a lockout of its own (schema version 1).
 */
export type AppLockoutEffect = 'kept' | 'lock-ended' | 'reset';

/** Version 2 added `appLockout`; version 1 events read as `reset`. */
export type RecoveryCodeConsumed = Event<
  'RecoveryCodeConsumed',
  At & {
    readonly index: number;
    readonly remaining: number;
    readonly purpose: VerificationPurpose;
    readonly appLockout: AppLockoutEffect;
  }
>;

/** Version 2 added the authenticator whose code proved it. */
export type CodesRegenerated = Event<
  'CodesRegenerated',
  At & OfAuthenticator & { readonly step: number; readonly recoveryCodes: RecoveryCodeSet }
>;

/**
 * A code that was checked and did not match, counted against the lockout of `factor`.
 * Version 2 added `factor`, and counts each factor's failures on its own; a version 1 event
 * counted every failure of the user together (its `consecutiveFailures` is kept as recorded)
 * and reads as a failure of the factor its method names.
 */
export type VerificationFailed = Event<
  'VerificationFailed',
  At & {
    readonly purpose: VerificationPurpose;
    readonly method: ProofMethod;
    readonly factor: Factor;
    readonly consecutiveFailures: number;
  }
>;

/**
 * The lockout of `factor` locked. Version 2 added `factor`; a version 1 lock only ever kept
 * TOTP codes out (recovery codes were still checked), so it reads as a lock of the app.
 */
export type FactorLocked = Event<
  'FactorLocked',
  At & {
    readonly factor: Factor;
    readonly consecutiveFailures: number;
    /** null: locked until an administrator unlocks */
    readonly lockedUntil: string | null;
  }
>;

/**
 * An attempt made while the factor it presented a code of was locked: refused without
 * checking the code. Recorded once per lock; the refusals after it are counted in
 * `RefusedAttemptsCounted`. Version 2 added `factor` (version 1: the app, the only lock then).
 */
export type VerificationRefused = Event<
  'VerificationRefused',
  At & {
    readonly purpose: VerificationPurpose;
    readonly method: ProofMethod;
    readonly factor: Factor;
    readonly lockedUntil: string | null;
  }
>;

/**
 * Attempts refused on a locked factor after its first recorded refusal, counted instead of
 * stored one by one, so that a flood cannot grow the log: how many, over what time, and
 * from which end-user addresses (the first few distinct ones).
 */
export type RefusedAttemptsCounted = Event<
  'RefusedAttemptsCounted',
  At & {
    /** version 2; version 1 counts read as the app's */
    readonly factor: Factor;
    readonly attempts: number;
    readonly firstAt: string;
    readonly lastAt: string;
    readonly endUserIps: readonly string[];
    readonly lockedUntil: string | null;
  }
>;

/** Version 2 added the authenticator whose code proved it (null: a recovery code). */
export type TwoFactorDisabled = Event<
  'TwoFactorDisabled',
  At & { readonly method: ProofMethod; readonly step: number | null; readonly authenticatorId: string | null }
>;

/**
 * The emergency reset. The name says what was done, not through which channel: an
 * administrator's reset over HTTP and one from the command line (actor role `cli`) are both
 * `AdminReset`; the actor in the metadata tells them apart.
 */
export type AdminReset = Event<
  'AdminReset',
  At & { readonly reason: string; readonly previousStatus: TwoFactorStatusName }
>;

/**
 * An administrator's unlock: both factors' lockouts cleared. `wasLocked`: any was locked;
 * `lockedFactors` (version 2; version 1: the app, when it was locked) says which.
 */
export type LockoutCleared = Event<
  'LockoutCleared',
  At & { readonly wasLocked: boolean; readonly lockedFactors: readonly Factor[] }
>;

/**
 * The user's personal data was erased on request: their data key was destroyed before this
 * was recorded, so every secret and personal field sealed with it is unreadable from now on.
 * The history stays (it still replays and verifies); 2FA reads `disabled`. It carries no
 * personal data itself: who (actor), when and why.
 */
export type UserErased = Event<
  'UserErased',
  At & { readonly reason: string; readonly previousStatus: TwoFactorStatusName }
>;

/**
 * Secrets in force that were sealed with an instance key (before data keys) sealed again
 * with the user's data key, so that the instance key stops being needed for them. The events
 * that first carried them are not rewritten. Version 2: one entry per authenticator (version
 * 1 had the one `authenticator`).
 */
export type SecretsResealed = Event<
  'SecretsResealed',
  At & {
    readonly authenticators: readonly (OfAuthenticator & { readonly secret: EncryptedSecret })[];
    readonly pending: EncryptedSecret | null;
  }
>;

/** What made the service see a user without 2FA while it is required, or the reset that took it away. */
export type SeenThrough = 'status' | 'sign-in' | 'enrollment' | 'reset';

/**
 * The user's enrollment deadline under "require 2FA for all users": recorded the first time
 * the service sees a user without 2FA in a period of the requirement (`at`), or when an
 * emergency reset takes their 2FA away while it is required (no grace then). The deadline
 * in force is computed from `at`, the period (`requiredSince`) and the policy of the moment
 * (enrollmentDeadline.ts); `gracePeriodHours` and `enrollBy` say what they were when recorded.
 */
export type EnrollmentDeadlineRecorded = Event<
  'EnrollmentDeadlineRecorded',
  At & {
    readonly requiredSince: string;
    readonly seenThrough: SeenThrough;
    readonly graceApplies: boolean;
    readonly gracePeriodHours: number;
    readonly enrollBy: string;
  }
>;

export type TwoFactorEvent =
  | EnrollmentStarted
  | EnrollmentConfirmationFailed
  | TwoFactorEnabled
  | AuthenticatorReplaced
  | AuthenticatorAdded
  | AuthenticatorConfirmed
  | AuthenticatorRenamed
  | AuthenticatorRemoved
  | SignInVerified
  | RecoveryCodeConsumed
  | CodesRegenerated
  | VerificationFailed
  | FactorLocked
  | VerificationRefused
  | RefusedAttemptsCounted
  | TwoFactorDisabled
  | AdminReset
  | LockoutCleared
  | UserErased
  | SecretsResealed
  | EnrollmentDeadlineRecorded;

export type TwoFactorEventType = TwoFactorEvent['type'];
