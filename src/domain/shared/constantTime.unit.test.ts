import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from './constantTime.ts';

describe('constantTimeEqual (correctness only; timing is not asserted)', () => {
  it.each([
    ['', ''],
    ['a', 'a'],
    ['755224', '755224'],
    ['0f'.repeat(32), '0f'.repeat(32)],
  ])('equal strings are equal: "%s"', (a, b) => {
    expect(constantTimeEqual(a, b)).toBe(true);
  });

  it.each([
    ['755224', '755225'],
    ['755224', '155224'],
    ['abc', 'abd'],
    ['a', 'A'],
  ])('strings differing in one character are unequal: "%s" vs "%s"', (a, b) => {
    expect(constantTimeEqual(a, b)).toBe(false);
  });

  it.each([
    ['', 'a'],
    ['75522', '755224'],
    ['755224', '7552240'],
    ['a', 'a\u0000'],
  ])('strings of different lengths are unequal, even when one is a prefix: %j vs %j', (a, b) => {
    expect(constantTimeEqual(a, b)).toBe(false);
    expect(constantTimeEqual(b, a)).toBe(false);
  });

  it('compares characters beyond the Latin-1 range', () => {
    expect(constantTimeEqual('\u4e00\u4e01', '\u4e00\u4e01')).toBe(true);
    expect(constantTimeEqual('\u4e00\u4e01', '\u4e00\u4e02')).toBe(false);
  });
});
