import { EventIdConflictError } from '../eventIdConflictError.ts';
import type { AppendResult } from '../eventStore.ts';
import type { StreamState } from './expectedRevision.ts';

/** Where an event id of the incoming append is already stored. */
export type StoredEventRef = {
  readonly id: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly position: bigint;
};

export type RetryCheck =
  | { readonly kind: 'new' }
  | {
      readonly kind: 'retry';
      /** the stream as the original append found it, to check the retry's expected revision against */
      readonly streamStateBefore: StreamState;
      /** what the original append answered */
      readonly result: AppendResult;
    };

/**
 * Decides whether an append is new or a retry of one already stored. A retry is recognised
 * only when every id is stored in this stream, in the given order, at consecutive revisions:
 * anything in between cannot be a retry, and writing it would either duplicate events or
 * split one decision's events, so it is refused.
 */
export function checkForRetry(
  streamName: string,
  eventIds: readonly string[],
  stored: readonly StoredEventRef[],
): RetryCheck {
  if (stored.length === 0) return { kind: 'new' };
  const storedIds = stored.map((ref) => ref.id);
  if (stored.length < eventIds.length) {
    throw new EventIdConflictError(
      streamName,
      storedIds,
      `are already stored but the rest of the append is new; a retry must resend exactly the same events`,
    );
  }
  const foreign = stored.filter((ref) => ref.streamName !== streamName);
  if (foreign.length > 0) {
    throw new EventIdConflictError(
      streamName,
      foreign.map((ref) => ref.id),
      `are already stored in another stream (${foreign[0]!.streamName})`,
    );
  }
  const byId = new Map(stored.map((ref) => [ref.id, ref]));
  const ordered = eventIds.map((id) => byId.get(id)!);
  const first = ordered[0]!;
  ordered.forEach((ref, index) => {
    if (ref.revision !== first.revision + BigInt(index)) {
      throw new EventIdConflictError(
        streamName,
        eventIds,
        'are stored, but not at consecutive revisions in this order, so this is not a retry of one append',
      );
    }
  });
  const last = ordered[ordered.length - 1]!;
  return {
    kind: 'retry',
    streamStateBefore: first.revision === 0n ? 'no-stream' : first.revision - 1n,
    result: { nextExpectedRevision: last.revision, position: last.position },
  };
}
