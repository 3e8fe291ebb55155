import type { Command } from '../shared/message.ts';
import type { EncryptedSecret } from './encryptedSecret.ts';
import type { EnrollmentRequirement } from './enrollmentDeadline.ts';
import type { SeenThrough } from './events.ts';
import type { Factor } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';

/**
 * A code as presented, with what the command handler prepared for checking it: the active
 * authenticator's secret, decrypted, or the argon2id digest of the presented recovery code
 * under the current set's salt (null when the input cannot be a recovery code).
 */
export type TotpProof = {
  readonly method: 'totp';
  readonly code: string;
  readonly secretBase32: string | null;
};
export type RecoveryCodeProof = { readonly method: 'recovery-code'; readonly digest: string | null };
export type Proof = TotpProof | RecoveryCodeProof;

type UserAt = { readonly userId: string; readonly nowMs: number };

export type StartEnrollment = Command<
  'StartEnrollment',
  UserAt & { readonly newSecret: EncryptedSecret; readonly proof: Proof | null }
>;

export type ConfirmEnrollment = Command<
  'ConfirmEnrollment',
  UserAt & {
    readonly code: string;
    /** the pending enrollment's secret, decrypted; null when nothing is pending */
    readonly pendingSecretBase32: string | null;
    /** prepared only when a live enrollment is pending: hashing ten codes is not free */
    readonly newRecoveryCodes: RecoveryCodeSet | null;
  }
>;

export type VerifySignIn = Command<'VerifySignIn', UserAt & { readonly proof: Proof }>;

export type RegenerateRecoveryCodes = Command<
  'RegenerateRecoveryCodes',
  UserAt & {
    readonly proof: TotpProof;
    /** prepared only when the factor is enabled and not locked */
    readonly newRecoveryCodes: RecoveryCodeSet | null;
  }
>;

export type DisableTwoFactor = Command<
  'DisableTwoFactor',
  UserAt & { readonly proof: Proof; readonly requireTwoFactor: boolean }
>;

export type ResetTwoFactor = Command<
  'ResetTwoFactor',
  UserAt & {
    readonly reason: string;
    /** the requirement in force, read by the handler: a reset under it records a deadline */
    readonly requirement?: EnrollmentRequirement | null;
  }
>;

export type UnlockFactor = Command<'UnlockFactor', UserAt>;

/** Erasure on request; the handler destroys the user's data key before deciding it. */
export type EraseUser = Command<'EraseUser', UserAt & { readonly reason: string }>;

/**
 * The secrets in force sealed again by the handler (under the user's data key): the active
 * authenticator's and the pending enrollment's, each null to leave that one as it is.
 */
export type ResealSecrets = Command<
  'ResealSecrets',
  UserAt & {
    readonly authenticator: EncryptedSecret | null;
    readonly pending: EncryptedSecret | null;
  }
>;

/** Refused attempts the handler counted on a locked factor, to be recorded as one event. */
export type CountRefusedAttempts = Command<
  'CountRefusedAttempts',
  UserAt & {
    readonly factor: Factor;
    readonly attempts: number;
    readonly firstAtMs: number;
    readonly lastAtMs: number;
    readonly endUserIps: readonly string[];
    readonly lockedUntil: string | null;
  }
>;

/** The service saw a user (a status read, a sign-in attempt, an enrollment start) under the policy in force. */
export type RecordEnrollmentDeadline = Command<
  'RecordEnrollmentDeadline',
  UserAt & {
    readonly requirement: EnrollmentRequirement | null;
    readonly seenThrough: Exclude<SeenThrough, 'reset'>;
  }
>;

export type TwoFactorCommand =
  | StartEnrollment
  | ConfirmEnrollment
  | VerifySignIn
  | RegenerateRecoveryCodes
  | DisableTwoFactor
  | ResetTwoFactor
  | UnlockFactor
  | EraseUser
  | ResealSecrets
  | CountRefusedAttempts
  | RecordEnrollmentDeadline;
