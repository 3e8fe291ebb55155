import type { Command } from '../shared/message.ts';
import type { EncryptedSecret } from './encryptedSecret.ts';
import type { EnrollmentRequirement } from './enrollmentDeadline.ts';
import type { SeenThrough } from './events.ts';
import type { Factor } from './lockout.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';

/** An authenticator's secret, decrypted by the handler for one check. */
export type OpenedAuthenticator = { readonly authenticatorId: string; readonly secretBase32: string };

/**
 * A code as presented, with what the command handler prepared for checking it: every
 * confirmed authenticator's secret, decrypted (none when the code will not be checked), or
 * the argon2id digest of the presented recovery code under the current set's salt (null when
 * the input cannot be a recovery code).
 */
export type TotpProof = {
  readonly method: 'totp';
  readonly code: string;
  readonly secrets: readonly OpenedAuthenticator[];
};
export type RecoveryCodeProof = { readonly method: 'recovery-code'; readonly digest: string | null };
export type Proof = TotpProof | RecoveryCodeProof;

type UserAt = { readonly userId: string; readonly nowMs: number };

/** The authenticator a command would create: a fresh id, a name, a sealed secret. */
type NewAuthenticator = {
  readonly authenticatorId: string;
  readonly name: string;
  readonly newSecret: EncryptedSecret;
};

export type StartEnrollment = Command<
  'StartEnrollment',
  UserAt & NewAuthenticator & { readonly proof: Proof | null }
>;

/** One more authenticator beside the enabled ones, proven with a code of the user's. */
export type AddAuthenticator = Command<
  'AddAuthenticator',
  UserAt & NewAuthenticator & { readonly proof: Proof }
>;

export type ConfirmAuthenticator = Command<
  'ConfirmAuthenticator',
  UserAt & {
    readonly authenticatorId: string;
    readonly code: string;
    /** the pending authenticator's secret, decrypted; null when it will not be checked */
    readonly pendingSecretBase32: string | null;
  }
>;

export type RenameAuthenticator = Command<
  'RenameAuthenticator',
  UserAt & { readonly authenticatorId: string; readonly name: string }
>;

export type RemoveAuthenticator = Command<
  'RemoveAuthenticator',
  UserAt & { readonly authenticatorId: string; readonly proof: Proof; readonly requireTwoFactor: boolean }
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
 * The secrets in force sealed again by the handler (under the user's data key): the
 * authenticators' (those left out stay as they are) and the pending enrollment's (null to
 * leave it as it is).
 */
export type ResealSecrets = Command<
  'ResealSecrets',
  UserAt & {
    readonly authenticators: readonly {
      readonly authenticatorId: string;
      readonly secret: EncryptedSecret;
    }[];
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
  | AddAuthenticator
  | ConfirmAuthenticator
  | RenameAuthenticator
  | RemoveAuthenticator
  | RegenerateRecoveryCodes
  | DisableTwoFactor
  | ResetTwoFactor
  | UnlockFactor
  | EraseUser
  | ResealSecrets
  | CountRefusedAttempts
  | RecordEnrollmentDeadline;
