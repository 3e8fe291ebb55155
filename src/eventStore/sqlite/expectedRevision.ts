import type { ExpectedRevision } from '../eventStore.ts';

/** What a stream looks like to an append: its last revision, or absent. */
export type StreamState = bigint | 'no-stream';

export function expectedRevisionMatches(expected: ExpectedRevision, actual: StreamState): boolean {
  if (expected === 'any') return true;
  if (expected === 'no-stream') return actual === 'no-stream';
  return actual === expected;
}
