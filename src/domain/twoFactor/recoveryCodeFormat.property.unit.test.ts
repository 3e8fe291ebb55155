import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_RANDOM_BYTES,
  RECOVERY_CODES_PER_SET,
} from './recoveryCodes.ts';

const randomBytes = fc.uint8Array({
  minLength: RECOVERY_CODE_RANDOM_BYTES,
  maxLength: RECOVERY_CODE_RANDOM_BYTES,
});
const symbol = `[${RECOVERY_CODE_ALPHABET}]`;
const printed = new RegExp(`^${symbol}{5}-${symbol}{5}$`);
const lowBits = (bytes: Uint8Array) => [...bytes].map((byte) => byte & 31).join(',');

describe('property: recovery code formatting', () => {
  it('any ten random bytes give xxxxx-xxxxx in the Crockford alphabet', () => {
    fc.assert(
      fc.property(randomBytes, (bytes) => {
        expect(formatRecoveryCode(bytes)).toMatch(printed);
      }),
      { numRuns: 200 },
    );
  });

  it('a printed code, however it is typed, normalizes to itself without the dash', () => {
    fc.assert(
      fc.property(
        randomBytes,
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        fc.boolean(),
        (bytes, upper, spaced) => {
          const code = formatRecoveryCode(bytes);
          const canonical = code.replace('-', '');
          const typed = [...code]
            .filter((c) => c !== '-')
            .map((c, i) => (upper[i] ? c.toUpperCase() : c))
            .join(spaced ? ' ' : '');
          expect(normalizeRecoveryCode(code)).toBe(canonical);
          expect(normalizeRecoveryCode(typed)).toBe(canonical);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('two draws give the same code exactly when their bytes agree in the low five bits', () => {
    fc.assert(
      fc.property(randomBytes, randomBytes, (a, b) => {
        expect(formatRecoveryCode(a) === formatRecoveryCode(b)).toBe(lowBits(a) === lowBits(b));
      }),
      { numRuns: 200 },
    );
  });

  it('ten draws that differ in their 50 random bits give a set of ten distinct codes', () => {
    const tenDraws = fc.uniqueArray(randomBytes, {
      minLength: RECOVERY_CODES_PER_SET,
      maxLength: RECOVERY_CODES_PER_SET,
      selector: lowBits,
    });
    fc.assert(
      fc.property(tenDraws, (draws) => {
        expect(new Set(draws.map(formatRecoveryCode)).size).toBe(RECOVERY_CODES_PER_SET);
      }),
      { numRuns: 100 },
    );
  });
});
