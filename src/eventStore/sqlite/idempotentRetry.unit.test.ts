import { describe, expect, it } from 'vitest';
import { EventIdConflictError } from '../eventIdConflictError.ts';
import { checkForRetry, type StoredEventRef } from './idempotentRetry.ts';

const ref = (id: string, revision: bigint, streamName = 's'): StoredEventRef => ({
  id,
  streamName,
  revision,
  position: 100n + revision,
});

describe('checkForRetry', () => {
  it('sees a new append when none of the ids is stored', () => {
    expect(checkForRetry('s', ['a', 'b'], [])).toEqual({ kind: 'new' });
  });

  it('recognises a retry and answers what the original append answered', () => {
    // Stored rows come back in any order; the retry is judged in the order of the append.
    expect(checkForRetry('s', ['a', 'b'], [ref('b', 4n), ref('a', 3n)])).toEqual({
      kind: 'retry',
      streamStateBefore: 2n,
      result: { nextExpectedRevision: 4n, position: 104n },
    });
  });

  it("reports 'no-stream' as the state before a retried first append", () => {
    expect(checkForRetry('s', ['a'], [ref('a', 0n)])).toMatchObject({ streamStateBefore: 'no-stream' });
  });

  it('refuses an append of which only some ids are stored', () => {
    expect(() => checkForRetry('s', ['a', 'new'], [ref('a', 0n)])).toThrow(EventIdConflictError);
  });

  it('refuses ids stored in another stream', () => {
    expect(() => checkForRetry('s', ['a'], [ref('a', 0n, 'other')])).toThrow(/another stream \(other\)/);
  });

  it('refuses ids stored out of order or not side by side', () => {
    expect(() => checkForRetry('s', ['a', 'b'], [ref('a', 1n), ref('b', 0n)])).toThrow(EventIdConflictError);
    expect(() => checkForRetry('s', ['a', 'b'], [ref('a', 0n), ref('b', 2n)])).toThrow(EventIdConflictError);
  });
});
