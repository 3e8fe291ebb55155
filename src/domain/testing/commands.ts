import type { CommandMetadata } from '../shared/message.ts';
import { DEFAULT_AUTHENTICATOR_NAME, FIRST_AUTHENTICATOR_ID } from '../twoFactor/authenticatorNames.ts';
import type {
  AddAuthenticator,
  ConfirmAuthenticator,
  ConfirmEnrollment,
  CountRefusedAttempts,
  DisableTwoFactor,
  EraseUser,
  OpenedAuthenticator,
  Proof,
  RegenerateRecoveryCodes,
  RemoveAuthenticator,
  RenameAuthenticator,
  ResealSecrets,
  ResetTwoFactor,
  StartEnrollment,
  TotpProof,
  UnlockFactor,
  VerifySignIn,
} from '../twoFactor/commands.ts';
import type { EncryptedSecret } from '../twoFactor/encryptedSecret.ts';
import type { Factor } from '../twoFactor/lockout.ts';
import type { RecoveryCodeSet } from '../twoFactor/recoveryCodes.ts';
import { ADMIN, USER_ID, WEB } from './metadata.ts';

/**
 * A TOTP code with the authenticators' decrypted secrets, as the handler hands it in: one
 * secret is the first authenticator's (`auth_1`), a list names each; null: none was opened
 * (the code will not be checked).
 */
export const totpProof = (
  code: string,
  secrets: string | readonly OpenedAuthenticator[] | null,
): TotpProof => ({
  method: 'totp',
  code,
  secrets:
    secrets === null
      ? []
      : typeof secrets === 'string'
        ? [{ authenticatorId: FIRST_AUTHENTICATOR_ID, secretBase32: secrets }]
        : secrets,
});

type Common = { readonly nowMs: number; readonly metadata?: CommandMetadata; readonly userId?: string };

type NewAuthenticatorInput = {
  readonly newSecret: EncryptedSecret;
  readonly authenticatorId?: string;
  readonly name?: string;
};

export const startEnrollment = (
  input: Common & NewAuthenticatorInput & { readonly proof?: Proof | null },
): StartEnrollment => ({
  type: 'StartEnrollment',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticatorId: input.authenticatorId ?? FIRST_AUTHENTICATOR_ID,
    name: input.name ?? DEFAULT_AUTHENTICATOR_NAME,
    newSecret: input.newSecret,
    proof: input.proof ?? null,
  },
  metadata: input.metadata ?? WEB,
});

export const addAuthenticator = (
  input: Common & NewAuthenticatorInput & { readonly authenticatorId: string; readonly proof: Proof },
): AddAuthenticator => ({
  type: 'AddAuthenticator',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticatorId: input.authenticatorId,
    name: input.name ?? 'Backup phone',
    newSecret: input.newSecret,
    proof: input.proof,
  },
  metadata: input.metadata ?? WEB,
});

export const confirmAuthenticator = (
  input: Common & {
    readonly authenticatorId: string;
    readonly code: string;
    readonly pendingSecretBase32: string | null;
  },
): ConfirmAuthenticator => ({
  type: 'ConfirmAuthenticator',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticatorId: input.authenticatorId,
    code: input.code,
    pendingSecretBase32: input.pendingSecretBase32,
  },
  metadata: input.metadata ?? WEB,
});

export const renameAuthenticator = (
  input: Common & { readonly authenticatorId: string; readonly name: string },
): RenameAuthenticator => ({
  type: 'RenameAuthenticator',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticatorId: input.authenticatorId,
    name: input.name,
  },
  metadata: input.metadata ?? WEB,
});

export const removeAuthenticator = (
  input: Common & {
    readonly authenticatorId: string;
    readonly proof: Proof;
    readonly requireTwoFactor?: boolean;
  },
): RemoveAuthenticator => ({
  type: 'RemoveAuthenticator',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticatorId: input.authenticatorId,
    proof: input.proof,
    requireTwoFactor: input.requireTwoFactor ?? false,
  },
  metadata: input.metadata ?? WEB,
});

export const confirmEnrollment = (
  input: Common & {
    readonly code: string;
    readonly pendingSecretBase32: string | null;
    readonly newRecoveryCodes: RecoveryCodeSet | null;
  },
): ConfirmEnrollment => ({
  type: 'ConfirmEnrollment',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    code: input.code,
    pendingSecretBase32: input.pendingSecretBase32,
    newRecoveryCodes: input.newRecoveryCodes,
  },
  metadata: input.metadata ?? WEB,
});

export const verifySignIn = (input: Common & { readonly proof: Proof }): VerifySignIn => ({
  type: 'VerifySignIn',
  data: { userId: input.userId ?? USER_ID, nowMs: input.nowMs, proof: input.proof },
  metadata: input.metadata ?? WEB,
});

export const regenerateRecoveryCodes = (
  input: Common & { readonly proof: TotpProof; readonly newRecoveryCodes: RecoveryCodeSet | null },
): RegenerateRecoveryCodes => ({
  type: 'RegenerateRecoveryCodes',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    proof: input.proof,
    newRecoveryCodes: input.newRecoveryCodes,
  },
  metadata: input.metadata ?? WEB,
});

export const disableTwoFactor = (
  input: Common & { readonly proof: Proof; readonly requireTwoFactor?: boolean },
): DisableTwoFactor => ({
  type: 'DisableTwoFactor',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    proof: input.proof,
    requireTwoFactor: input.requireTwoFactor ?? false,
  },
  metadata: input.metadata ?? WEB,
});

export const resetTwoFactor = (input: Common & { readonly reason?: string }): ResetTwoFactor => ({
  type: 'ResetTwoFactor',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    reason: input.reason ?? 'lost phone and codes',
  },
  metadata: input.metadata ?? ADMIN,
});

export const eraseUser = (input: Common & { readonly reason?: string }): EraseUser => ({
  type: 'EraseUser',
  data: { userId: input.userId ?? USER_ID, nowMs: input.nowMs, reason: input.reason ?? 'erasure request' },
  metadata: input.metadata ?? ADMIN,
});

/** `authenticator`: the first authenticator's (`auth_1`) secret sealed again. */
export const resealSecrets = (
  input: Common & {
    readonly authenticator: EncryptedSecret | null;
    readonly pending: EncryptedSecret | null;
  },
): ResealSecrets => ({
  type: 'ResealSecrets',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    authenticators:
      input.authenticator === null
        ? []
        : [{ authenticatorId: FIRST_AUTHENTICATOR_ID, secret: input.authenticator }],
    pending: input.pending,
  },
  metadata: input.metadata ?? ADMIN,
});

export const unlockFactor = (input: Common): UnlockFactor => ({
  type: 'UnlockFactor',
  data: { userId: input.userId ?? USER_ID, nowMs: input.nowMs },
  metadata: input.metadata ?? ADMIN,
});

export const countRefusedAttempts = (
  input: Common & {
    readonly factor?: Factor;
    readonly attempts: number;
    readonly firstAtMs: number;
    readonly lastAtMs?: number;
    readonly endUserIps?: readonly string[];
    readonly lockedUntil?: string | null;
  },
): CountRefusedAttempts => ({
  type: 'CountRefusedAttempts',
  data: {
    userId: input.userId ?? USER_ID,
    nowMs: input.nowMs,
    factor: input.factor ?? 'app',
    attempts: input.attempts,
    firstAtMs: input.firstAtMs,
    lastAtMs: input.lastAtMs ?? input.nowMs,
    endUserIps: input.endUserIps ?? [],
    lockedUntil: input.lockedUntil ?? null,
  },
  metadata: input.metadata ?? WEB,
});
