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
import type { PepperRing } from './pepper.ts';
import { KeyUnavailableError } from './secretBox.ts';
import { unlimitedWork, type WorkLimiter } from './workLimiter.ts';

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
  /**
   * Ten fresh codes, shown once, and the set of digests that is stored. `peppers` (else the
   * hasher's own) pepper them: the service hands in the user's, whose current key is the
   * user's data key.
   */
  newSet(peppers?: PepperRing): Promise<{ readonly codes: readonly string[]; readonly set: RecoveryCodeSet }>;
  /**
   * The digest of a presented code under a set's salt: one argon2 computation; null if it
   * cannot be a code. `workKey` is whose fair share of the hashing it takes (the end-user
   * address): unproven work, shed when its wait would be too long.
   */
  digestOf(
    presented: string,
    set: RecoveryCodeSet,
    peppers?: PepperRing,
    workKey?: string,
  ): Promise<string | null>;
  /** how many argon2 computations have run; lets tests prove a check costs one */
  readonly computations: () => number;
  /** whether codes of a set peppered with this key can be checked here */
  canCheck(set: RecoveryCodeSet, peppers?: PepperRing): boolean;
};

/** The share of checks whose caller named no end-user address or key: one for them all. */
export const UNKEYED_WORK = 'unkeyed';

export type RecoveryCodeHasherOptions = {
  /** shares argon2 work fairly and sheds unproven checks past their wait; default: no bound */
  readonly limiter?: WorkLimiter;
  /** peppers new sets and checks peppered ones; without it, sets are issued unpeppered */
  readonly peppers?: PepperRing;
  /**
   * With peppers: whether sets issued before the pepper are still checked. Off by default:
   * anyone who can write to the store could plant such a set for codes they know.
   */
  readonly acceptUnpeppered?: boolean;
};

export function createRecoveryCodeHasher(
  parameters: DigestParameters = DEFAULT_DIGEST_PARAMETERS,
  options: RecoveryCodeHasherOptions = {},
): RecoveryCodeHasher {
  const limiter = options.limiter ?? unlimitedWork;
  let computations = 0;
  const digest = async (input: string, salt: Buffer, params: DigestParameters): Promise<string> => {
    computations++;
    const raw = await hashRaw(input, {
      algorithm: ARGON2ID,
      salt,
      memoryCost: params.memoryCost,
      timeCost: params.timeCost,
      parallelism: params.parallelism,
      outputLen: params.outputLength,
    });
    return raw.toString('base64');
  };
  /** What argon2 hashes for a code: its peppered form when the set is peppered. */
  const hashInput = (
    canonical: string,
    pepperKeyId: string | undefined,
    peppers = options.peppers,
  ): string => {
    if (pepperKeyId === undefined) return canonical;
    if (peppers === undefined) throw new KeyUnavailableError(pepperKeyId);
    return peppers.pepper(canonical, pepperKeyId);
  };
  return {
    async newSet(peppers = options.peppers) {
      const codes = new Set<string>();
      while (codes.size < RECOVERY_CODES_PER_SET)
        codes.add(formatRecoveryCode(randomBytes(RECOVERY_CODE_RANDOM_BYTES)));
      const salt = randomBytes(16);
      const list = [...codes];
      const pepperKeyId = peppers?.currentKeyId;
      const inputs = list.map((code) =>
        hashInput(normalizeRecoveryCode(code) as string, pepperKeyId, peppers),
      );
      // Issued only after a right TOTP code (the domain decides so before any hashing): proven work.
      const digests = await limiter.run({ proven: true }, (slot) =>
        Promise.all(inputs.map((input) => slot(() => digest(input, salt, parameters)))),
      );
      const set: RecoveryCodeSet = {
        salt: salt.toString('base64'),
        parameters,
        digests,
        ...(pepperKeyId === undefined ? {} : { pepperKeyId }),
      };
      return { codes: list, set };
    },
    async digestOf(presented, set, peppers = options.peppers, workKey = UNKEYED_WORK) {
      const canonical = normalizeRecoveryCode(presented);
      if (canonical === null) return null;
      // An unpeppered set where peppers are required matches nothing, as a wrong code would.
      if (set.pepperKeyId === undefined && peppers !== undefined && !options.acceptUnpeppered) {
        return null;
      }
      const input = hashInput(canonical, set.pepperKeyId, peppers);
      return limiter.run({ proven: false, key: workKey }, (slot) =>
        slot(() => digest(input, Buffer.from(set.salt, 'base64'), set.parameters)),
      );
    },
    computations: () => computations,
    canCheck(set, peppers = options.peppers) {
      if (set.pepperKeyId === undefined) return true;
      try {
        hashInput('', set.pepperKeyId, peppers);
        return true;
      } catch {
        return false;
      }
    },
  };
}
