import type { RecoveryCodeHasher } from '../crypto/recoveryCodeHasher.ts';
import { KeyUnavailableError } from '../crypto/secretBox.ts';
import type { TwoFactorState } from '../domain/twoFactor/state.ts';
import type { UserKeyring } from '../keys/userKeys.ts';

/** What a user's stored data needs of the key ring (ids only: never a key). */
export type KeyUse = {
  readonly sealedWith: readonly string[];
  /** the pepper key id of the recovery codes in force, or what they have instead */
  readonly recoveryCodes: string | 'unpeppered' | 'none';
  readonly unusable: readonly string[];
};

/**
 * The keys a user's stored secrets (the authenticators', a pending one's) and recovery codes
 * (their pepper) depend on, and which of them the service cannot use: missing from the
 * configuration, or not the key they were sealed with. Each secret is opened to find out.
 */
export async function keyUseOf(
  state: TwoFactorState,
  keyring: UserKeyring,
  hasher: RecoveryCodeHasher,
): Promise<KeyUse> {
  const sealedWith: string[] = [];
  const unusable = new Set<string>();
  for (const sealed of [...state.authenticators.map((a) => a.secret), state.pending?.secret]) {
    if (sealed === undefined) continue;
    sealedWith.push(sealed.keyId);
    try {
      await keyring.open(sealed);
    } catch (error) {
      // A data key is unusable through the instance key that wraps it: name that key.
      unusable.add(error instanceof KeyUnavailableError ? error.keyId : sealed.keyId);
    }
  }
  const set = state.enabled ? state.recoveryCodes?.set : undefined;
  if (set?.pepperKeyId !== undefined) {
    let peppers: Awaited<ReturnType<UserKeyring['peppers']>> | null = null;
    try {
      peppers = await keyring.peppers({ create: false });
    } catch (error) {
      // The data key itself does not unwrap: name the instance key that wraps it.
      unusable.add(error instanceof KeyUnavailableError ? error.keyId : set.pepperKeyId);
    }
    if (peppers !== null && !hasher.canCheck(set, peppers)) unusable.add(set.pepperKeyId);
  }
  return {
    sealedWith,
    recoveryCodes: set === undefined ? 'none' : (set.pepperKeyId ?? 'unpeppered'),
    unusable: [...unusable],
  };
}
