import { describe, expect, it } from 'vitest';
import { expectedRevisionMatches } from './expectedRevision.ts';

describe('expectedRevisionMatches', () => {
  it.each([
    ['any', 'no-stream', true],
    ['any', 7n, true],
    ['no-stream', 'no-stream', true],
    ['no-stream', 0n, false],
    [2n, 2n, true],
    [2n, 3n, false],
    [0n, 'no-stream', false],
  ] as const)('expected %s against %s: %s', (expected, actual, matches) => {
    expect(expectedRevisionMatches(expected, actual)).toBe(matches);
  });
});
