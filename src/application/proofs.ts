import type { RecoveryCodeHasher } from '../crypto/recoveryCodeHasher.ts';
import { proofIsChecked } from '../domain/twoFactor/attemptChecks.ts';
import type { ConfirmEnrollment, Proof, RegenerateRecoveryCodes } from '../domain/twoFactor/commands.ts';
import { decide } from '../domain/twoFactor/decide.ts';
import type { ProofMethod } from '../domain/twoFactor/events.ts';
import { issuesRecoveryCodes } from '../domain/twoFactor/issuesRecoveryCodes.ts';
import type { RecoveryCodeSet } from '../domain/twoFactor/recoveryCodes.ts';
import type { TwoFactorState } from '../domain/twoFactor/state.ts';
import type { UserKeyring } from '../keys/userKeys.ts';

/*
 * The slow, secret-touching work a decision needs (decryption, argon2), prepared outside the
 * pure decider — and only when the domain says the result will be used.
 */

/** A code as the caller presents it: exactly one of the two. */
export type PresentedCode = { readonly code: string } | { readonly recoveryCode: string };

/** Where an attempt comes from, for a fair share of the hashing: the end-user address's bucket. */
export type AttemptContext = { readonly workKey?: string };

/**
 * A presented recovery code's digest, computed before the user's lock was taken (so that one
 * user's queue of checks never holds up their other commands), and the set it was computed
 * for: used only if that set is still the one in force when the command is decided.
 */
export type EarlyDigest = {
  readonly salt: string;
  readonly pepperKeyId: string | undefined;
  readonly digest: string | null;
};

export const presentedMethod = (presented: PresentedCode): ProofMethod =>
  'code' in presented ? 'totp' : 'recovery-code';

/** The domain's answer to "will this code be checked?" for the command at hand. */
export type IsChecked = (state: TwoFactorState, method: ProofMethod, nowMs: number) => boolean;

/** The digest of a presented recovery code under the set in force: one argon2 computation. */
async function digestUnder(
  hasher: RecoveryCodeHasher,
  keyring: UserKeyring,
  set: RecoveryCodeSet,
  recoveryCode: string,
  context: AttemptContext,
): Promise<EarlyDigest> {
  const digest = await hasher.digestOf(
    recoveryCode,
    set,
    await keyring.peppers({ create: false }),
    context.workKey,
  );
  return { salt: set.salt, pepperKeyId: set.pepperKeyId, digest };
}

/**
 * Hashes a presented recovery code ahead of the command, from the state as it stands, when
 * the domain says it will be checked; null otherwise (a TOTP code, a locked factor).
 */
export async function digestAhead(
  hasher: RecoveryCodeHasher,
  keyring: UserKeyring,
  state: TwoFactorState,
  presented: PresentedCode,
  nowMs: number,
  context: AttemptContext,
  isChecked: IsChecked = proofIsChecked,
): Promise<EarlyDigest | null> {
  if (!('recoveryCode' in presented) || state.recoveryCodes === null) return null;
  if (!isChecked(state, 'recovery-code', nowMs)) return null;
  return digestUnder(hasher, keyring, state.recoveryCodes.set, presented.recoveryCode, context);
}

/**
 * Prepares a presented code for checking, skipping the slow work when no check will run, and
 * using a digest computed ahead when it was computed for the set still in force.
 */
export async function prepareProof(
  hasher: RecoveryCodeHasher,
  keyring: UserKeyring,
  state: TwoFactorState,
  presented: PresentedCode,
  nowMs: number,
  isChecked: IsChecked = proofIsChecked,
  ahead: { readonly context?: AttemptContext; readonly early?: EarlyDigest | null } = {},
): Promise<Proof> {
  const checked = isChecked(state, presentedMethod(presented), nowMs);
  if ('code' in presented) {
    // Every authenticator's secret: a code of any of them is the user's.
    const secrets = checked
      ? await Promise.all(
          state.authenticators.map(async (a) => ({
            authenticatorId: a.id,
            secretBase32: await keyring.open(a.secret),
          })),
        )
      : [];
    return { method: 'totp', code: presented.code, secrets };
  }
  const set = state.recoveryCodes?.set;
  if (!checked || set === undefined) return { method: 'recovery-code', digest: null };
  const early = ahead.early;
  const reusable = early != null && early.salt === set.salt && early.pepperKeyId === set.pepperKeyId;
  const { digest } = reusable
    ? early
    : await digestUnder(hasher, keyring, set, presented.recoveryCode, ahead.context ?? {});
  return { method: 'recovery-code', digest };
}

/** Decides a command that may issue recovery codes, hashing a new set only if it will. */
export async function decideIssuingCodes(
  hasher: RecoveryCodeHasher,
  command: ConfirmEnrollment | RegenerateRecoveryCodes,
  state: TwoFactorState,
  keyring: UserKeyring,
) {
  const fresh = issuesRecoveryCodes(command, state)
    ? await hasher.newSet(await keyring.peppers({ create: true }))
    : null;
  const prepared = { ...command, data: { ...command.data, newRecoveryCodes: fresh?.set ?? null } };
  return { events: decide(prepared as typeof command, state), result: fresh?.codes ?? [] };
}
