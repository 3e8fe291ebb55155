import { constantTimeEqual } from '../shared/constantTime.ts';

export const RECOVERY_CODES_PER_SET = 10;

/**
 * Crockford's base32 alphabet: 32 symbols without i, l, o and u, so nothing reads as
 * something else; 10 symbols give 50 bits. On input, i/l read as 1 and o as 0.
 */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const RECOVERY_CODE_SYMBOLS = 10;
export const RECOVERY_CODE_RANDOM_BYTES = RECOVERY_CODE_SYMBOLS;

/** Argon2id settings stored with each set, so they can be raised without breaking old sets. */
export type DigestParameters = {
  readonly algorithm: 'argon2id';
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly outputLength: number;
};

/** A set as stored in events: one salt, one digest a code; the codes themselves never. */
export type RecoveryCodeSet = {
  readonly salt: string;
  readonly parameters: DigestParameters;
  readonly digests: readonly string[];
  /**
   * The key whose pepper (a keyed hash, before argon2) the digests were made with; absent
   * for sets issued before codes were peppered, whose digests are of the codes alone.
   */
  readonly pepperKeyId?: string;
};

/**
 * Formats ten random bytes as `xxxxx-xxxxx`. Each byte picks one of 32 symbols by its low
 * five bits; 256 is a multiple of 32, so every symbol is equally likely.
 */
export function formatRecoveryCode(randomBytes: Uint8Array): string {
  if (randomBytes.length !== RECOVERY_CODE_RANDOM_BYTES) {
    throw new RangeError(`a recovery code takes ${RECOVERY_CODE_RANDOM_BYTES} random bytes`);
  }
  let symbols = '';
  for (const byte of randomBytes) symbols += RECOVERY_CODE_ALPHABET[byte & 31];
  return `${symbols.slice(0, 5)}-${symbols.slice(5)}`;
}

/**
 * The canonical form that is hashed: lower case, without spaces and dashes, with the
 * look-alike letters read as digits. Null when the input cannot be a recovery code at all.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const canonical = input
    // Full-width letters and dashes, as some keyboards type them, read as their plain forms.
    .normalize('NFKC')
    .toLowerCase()
    // Hyphens as phones and word processors type them (U+2010–U+2015, U+2212) are dashes too.
    .replace(/[\s\-\u2010-\u2015\u2212]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
  if (canonical.length !== RECOVERY_CODE_SYMBOLS) return null;
  for (const symbol of canonical) if (!RECOVERY_CODE_ALPHABET.includes(symbol)) return null;
  return canonical;
}

/**
 * Index of the unused code whose digest equals `presentedDigest`, or null. Every digest of
 * the set is compared, used or not, so the time taken says nothing about which matched.
 */
export function matchRecoveryCode(
  set: RecoveryCodeSet,
  used: readonly boolean[],
  presentedDigest: string,
): number | null {
  let found: number | null = null;
  set.digests.forEach((digest, index) => {
    const matches = constantTimeEqual(digest, presentedDigest);
    if (matches && !used[index] && found === null) found = index;
  });
  return found;
}

/** How long after its use a recovery code sent again is taken for a double submit. */
export const RECOVERY_CODE_RESUBMIT_MS = 2 * 60_000;

/**
 * Whether the presented digest is that of the code used last, sent again within
 * RECOVERY_CODE_RESUBMIT_MS: a double submit. Any other used code is a wrong code, counted
 * like one, so replaying old codes buys no free checks.
 */
export function isJustUsedRecoveryCode(
  set: RecoveryCodeSet,
  lastUsed: { readonly index: number; readonly atMs: number } | null,
  presentedDigest: string,
  nowMs: number,
): boolean {
  if (lastUsed === null || nowMs - lastUsed.atMs > RECOVERY_CODE_RESUBMIT_MS) return false;
  return constantTimeEqual(set.digests[lastUsed.index] ?? '', presentedDigest);
}
