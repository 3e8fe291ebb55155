import { createHash } from 'node:crypto';
import type { RecoveryCodeProof } from '../twoFactor/commands.ts';
import {
  type DigestParameters,
  formatRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_RANDOM_BYTES,
  RECOVERY_CODES_PER_SET,
  type RecoveryCodeSet,
} from '../twoFactor/recoveryCodes.ts';

/** A set as the user sees it (plaintext codes) and as the domain stores it (digests). */
export type IssuedRecoveryCodes = {
  readonly codes: readonly string[];
  readonly set: RecoveryCodeSet;
};

/** The parameters a real set records; the stand-in hash below ignores them. */
export const TEST_DIGEST_PARAMETERS: DigestParameters = {
  algorithm: 'argon2id',
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLength: 32,
};

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Deterministic stand-in for argon2id (the domain only compares the digests it is given;
 * the real hash is tested where it is computed): sha256 of the set's salt and the
 * canonical code.
 */
export const testDigest = (salt: string, canonicalCode: string): string =>
  sha256(`${salt}:${canonicalCode}`).toString('hex');

/** Ten codes and their digests, derived from `label` so each label gives its own set. */
export function issueRecoveryCodes(label: string): IssuedRecoveryCodes {
  const codes = Array.from({ length: RECOVERY_CODES_PER_SET }, (_, index) =>
    formatRecoveryCode(sha256(`${label}:code:${index}`).subarray(0, RECOVERY_CODE_RANDOM_BYTES)),
  );
  if (new Set(codes).size !== codes.length) throw new Error(`label ${label} gives a repeated code`);
  const salt = sha256(`${label}:salt`).subarray(0, 16).toString('base64');
  const digests = codes.map((code) => testDigest(salt, normalizeRecoveryCode(code)!));
  return { codes, set: { salt, parameters: TEST_DIGEST_PARAMETERS, digests } };
}

/**
 * The proof a handler prepares for a typed recovery code: its digest under the salt of the
 * set the account holds now, or null when the input cannot be a recovery code.
 */
export function recoveryCodeProof(current: RecoveryCodeSet | null, input: string): RecoveryCodeProof {
  const canonical = normalizeRecoveryCode(input);
  return {
    method: 'recovery-code',
    digest: canonical === null || current === null ? null : testDigest(current.salt, canonical),
  };
}

/** The first set a user gets, and the ones regenerations or replacements issue. */
export const CODES_1 = issueRecoveryCodes('set 1');
export const CODES_2 = issueRecoveryCodes('set 2');
export const CODES_3 = issueRecoveryCodes('set 3');
