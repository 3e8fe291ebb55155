import { describe, expect, it } from 'vitest';
import {
  formatRecoveryCode,
  matchRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_RANDOM_BYTES,
  RECOVERY_CODES_PER_SET,
  type RecoveryCodeSet,
} from './recoveryCodes.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('formatRecoveryCode', () => {
  it('gives xxxxx-xxxxx: ten symbols in two groups of five', () => {
    expect(formatRecoveryCode(bytes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9))).toBe('01234-56789');
    expect(formatRecoveryCode(bytes(10, 11, 12, 13, 14, 15, 16, 17, 18, 19))).toBe('abcde-fghjk');
    expect(formatRecoveryCode(bytes(20, 21, 22, 23, 24, 25, 26, 27, 28, 29))).toBe('mnpqr-stvwx');
  });

  it('uses Crockford base32: 32 symbols without i, l, o and u', () => {
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32);
    expect(RECOVERY_CODE_ALPHABET).toMatch(/^[0-9a-hjkmnp-tv-z]+$/);
    for (const letter of 'ilou') expect(RECOVERY_CODE_ALPHABET).not.toContain(letter);
  });

  it("picks each symbol by a byte's low five bits, so the high three bits do not matter", () => {
    const low = bytes(30, 31, 0, 1, 2, 3, 4, 5, 6, 7);
    const high = low.map((byte, i) => byte | ((i % 8) << 5));
    expect(formatRecoveryCode(high)).toBe(formatRecoveryCode(low));
    expect(formatRecoveryCode(low)).toBe('yz012-34567');
  });

  it('uses every symbol equally often over all 256 byte values', () => {
    const counts = new Map<string, number>();
    for (let value = 0; value < 256; value++) {
      const symbol = formatRecoveryCode(new Uint8Array(RECOVERY_CODE_RANDOM_BYTES).fill(value))[0]!;
      counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...RECOVERY_CODE_ALPHABET].sort().join(''));
    expect(new Set(counts.values())).toEqual(new Set([8]));
  });

  it('takes exactly ten random bytes: ten symbols of five bits, 50 bits', () => {
    expect(RECOVERY_CODE_RANDOM_BYTES).toBe(10);
    expect(RECOVERY_CODES_PER_SET).toBe(10);
    expect(() => formatRecoveryCode(new Uint8Array(9))).toThrow(RangeError);
    expect(() => formatRecoveryCode(new Uint8Array(11))).toThrow(RangeError);
  });
});

describe('normalizeRecoveryCode', () => {
  it('drops the dash of the printed form', () => {
    expect(normalizeRecoveryCode('abcde-fghjk')).toBe('abcdefghjk');
  });

  it('is case-insensitive', () => {
    expect(normalizeRecoveryCode('ABCDE-FGHJK')).toBe('abcdefghjk');
    expect(normalizeRecoveryCode('AbCdE-fGhJk')).toBe('abcdefghjk');
  });

  it.each([
    ['hyphen', '\u2010'],
    ['non-breaking hyphen', '\u2011'],
    ['figure dash', '\u2012'],
    ['en dash', '\u2013'],
    ['em dash', '\u2014'],
    ['horizontal bar', '\u2015'],
    ['minus sign', '\u2212'],
    ['full-width hyphen-minus', '\uff0d'],
  ])('reads a %s as the dash', (_name, dash) => {
    expect(normalizeRecoveryCode(`abcde${dash}fghjk`)).toBe('abcdefghjk');
  });

  it('reads full-width letters and digits as their plain forms', () => {
    expect(normalizeRecoveryCode('ＡＢＣＤＥ－ｆｇｈｊ１')).toBe('abcdefghj1');
  });

  it('ignores spaces, tabs and any number of dashes', () => {
    expect(normalizeRecoveryCode('  abcde fghjk\t')).toBe('abcdefghjk');
    expect(normalizeRecoveryCode('ab-cd-ef-gh-jk')).toBe('abcdefghjk');
    expect(normalizeRecoveryCode('abcde - - fghjk')).toBe('abcdefghjk');
  });

  it('reads i and l as 1 and o as 0, in either case', () => {
    expect(normalizeRecoveryCode('iIlLo-O2345')).toBe('1111002345');
  });

  it.each(['abcde-fghj', 'abcde-fghjkm', '', '-----', 'abcd'])('refuses the wrong length: "%s"', (input) => {
    expect(normalizeRecoveryCode(input)).toBeNull();
  });

  it.each(['abcde-fghju', 'abcde-fghj!', 'abcde_fghjk', 'abcde.fghjk', 'abcdé-fghjk'])(
    'refuses characters outside the alphabet: "%s"',
    (input) => {
      expect(normalizeRecoveryCode(input)).toBeNull();
    },
  );
});

describe('matchRecoveryCode', () => {
  const set: RecoveryCodeSet = {
    salt: 'salt',
    parameters: { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLength: 32 },
    digests: ['d0', 'd1', 'd2', 'd3'],
  };
  const noneUsed = [false, false, false, false];

  it('finds the index of an unused code with that digest', () => {
    expect(matchRecoveryCode(set, noneUsed, 'd2')).toBe(2);
    expect(matchRecoveryCode(set, noneUsed, 'd0')).toBe(0);
  });

  it('does not find a used code', () => {
    expect(matchRecoveryCode(set, [false, false, true, false], 'd2')).toBeNull();
  });

  it('does not find a digest that is not in the set, nor a prefix of one', () => {
    expect(matchRecoveryCode(set, noneUsed, 'd9')).toBeNull();
    expect(matchRecoveryCode(set, noneUsed, 'd')).toBeNull();
    expect(matchRecoveryCode(set, noneUsed, '')).toBeNull();
  });
});
