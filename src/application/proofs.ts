import type { RecoveryCodeHasher } from '../crypto/recoveryCodeHasher.ts';
import { proofIsChecked } from '../domain/twoFactor/attemptChecks.ts';
import type { ConfirmEnrollment, Proof, RegenerateRecoveryCodes } from '../domain/twoFactor/commands.ts';
import { decide } from '../domain/twoFactor/decide.ts';
import type { ProofMethod } from '../domain/twoFactor/events.ts';
import { issuesRecoveryCodes } from '../domain/twoFactor/issuesRecoveryCodes.ts';
import type { TwoFactorState } from '../domain/twoFactor/state.ts';
import type { UserKeyring } from '../keys/userKeys.ts';

/*
 * The slow, secret-touching work a decision needs (decryption, argon2), prepared outside the
 * pure decider — and only when the domain says the result will be used.
 */

/** A code as the caller presents it: exactly one of the two. */
export type PresentedCode = { readonly code: string } | { readonly recoveryCode: string };

export const presentedMethod = (presented: PresentedCode): ProofMethod =>
  'code' in presented ? 'totp' : 'recovery-code';

/** Prepares a presented code for checking, skipping the slow work when no check will run. */
export async function prepareProof(
  hasher: RecoveryCodeHasher,
  keyring: UserKeyring,
  state: TwoFactorState,
  presented: PresentedCode,
  nowMs: number,
  /** the domain's answer to "will this code be checked?" for the command at hand */
  isChecked: (state: TwoFactorState, method: ProofMethod, nowMs: number) => boolean = proofIsChecked,
): Promise<Proof> {
  const checked = isChecked(state, presentedMethod(presented), nowMs);
  if ('code' in presented) {
    const secretBase32 =
      checked && state.authenticator ? await keyring.open(state.authenticator.secret) : null;
    return { method: 'totp', code: presented.code, secretBase32 };
  }
  const digest =
    checked && state.recoveryCodes
      ? await hasher.digestOf(
          presented.recoveryCode,
          state.recoveryCodes.set,
          await keyring.peppers({ create: false }),
        )
      : null;
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
