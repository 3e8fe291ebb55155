import { randomBytes } from 'node:crypto';
import { type Algorithm, hashRaw } from '@node-rs/argon2';
import {
  type DigestParameters,
  formatRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_RANDOM_BYTES,
  RECOVERY_CODES_PER_SET,
  type RecoveryCodeSet,
} from '../domain/twoFactor/recoveryCodes.ts';

// `Algorithm` is a const enum in an ambient module, which isolated modules cannot inline.
const ARGON2ID = 2 as Algorithm.Argon2id;

/** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
export const DEFAULT_DIGEST_PARAMETERS: DigestParameters = {
  algorithm: 'argon2id',
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLength: 32,
};

export type RecoveryCodeHasher = {
  /** ten fresh codes, shown once, and the set of digests that is stored */
  newSet(): Promise<{ readonly codes: readonly string[]; readonly set: RecoveryCodeSet }>;
  /** the digest of a presented code under a set's salt: one argon2 computation; null if it cannot be a code */
  digestOf(presented: string, set: RecoveryCodeSet): Promise<string | null>;
  /** how many argon2 computations have run; lets tests prove a check costs one */
  readonly computations: () => number;
};

export function createRecoveryCodeHasher(
  parameters: DigestParameters = DEFAULT_DIGEST_PARAMETERS,
): RecoveryCodeHasher {
  let computations = 0;
  const digest = async (canonical: string, salt: Buffer, params: DigestParameters): Promise<string> => {
    computations++;
    const raw = await hashRaw(canonical, {
      algorithm: ARGON2ID,
      salt,
      memoryCost: params.memoryCost,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      outputLen: params.outputLength,
    });
    return raw.toString('base64');
  };
  return {
    async newSet() {
      const codes = new Set<string>();
      while (codes.size < RECOVERY_CODES_PER_SET)
        codes.add(formatRecoveryCode(randomBytes(RECOVERY_CODE_RANDOM_BYTES)));
      const salt = randomBytes(16);
      const list = [...codes];
      const digests = await Promise.all(
        list.map((code) => digest(normalizeRecoveryCode(code) as string, salt, parameters)),
      );
      return { codes: list, set: { salt: salt.toString('base64'), parameters, digests } };
    },
    async digestOf(presented, set) {
      const canonical = normalizeRecoveryCode(presented);
      if (canonical === null) return null;
      return digest(canonical, Buffer.from(set.salt, 'base64'), set.parameters);
    },
    computations: () => computations,
  };
}
