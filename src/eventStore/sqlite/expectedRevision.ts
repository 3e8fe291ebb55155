import type { ExpectedRevision } from '../eventStore.ts';

/** What a stream looks like to an append: its last revision, or absent. */
export type StreamState = bigint | 'no-stream';

export function expectedRevisionMatches(expected: ExpectedRevision, actual: StreamState): boolean {
  if (expected === 'any') return true;
  if (expected === 'no-stream') return actual === 'no-stream';
  return actual === expected;
}

/** The port is also called from plain JS (CLI tooling); a number here would silently never match. */
export function assertExpectedRevision(value: unknown): asserts value is ExpectedRevision {
  if (value === 'any' || value === 'no-stream') return;
  if (typeof value === 'bigint' && value >= 0n) return;
  throw new TypeError(
    `expectedRevision must be 'no-stream', 'any' or a bigint >= 0n, got ${typeof value === 'bigint' ? `${value}n` : JSON.stringify(value)}`,
  );
}
