import type { StreamHead } from './streamHeads.ts';

/** What one walk of the log reached (see `verifyChain` with `heads: true`). */
export type ReachedHeads = {
  /** the global position of the last event read; 0 for an empty log */
  readonly position: bigint;
  /** every stream's last revision and the hash that event carries */
  readonly streams: ReadonlyMap<string, StreamHead>;
  /**
   * For each stream of the saved heads the walk was given: the hash its event at the saved
   * revision carries. Kept during the walk because a head alone cannot tell whether an
   * earlier event is still the one that was anchored.
   */
  readonly anchoredHashes: ReadonlyMap<string, string>;
};

export type AnchorProblem = {
  readonly kind: 'missing' | 'truncated' | 'rewritten';
  readonly streamName: string;
  /** the revision the saved heads anchored */
  readonly revision: bigint;
  readonly reason: string;
};

export type AnchorVerdict =
  | { readonly ok: true; readonly anchored: number }
  | { readonly ok: false; readonly problem: AnchorProblem };

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether the log still holds everything the saved heads anchored: each saved stream must
 * exist, reach at least its saved revision, and carry the saved hash there. With the chain
 * verified, that hash covers every earlier event of the stream, so events appended since
 * are fine and anything cut off or rewritten up to the anchor is not. Streams are checked
 * in name order, so the first problem reported does not depend on the file's key order.
 */
export function verifyAgainstHeads(
  reached: ReachedHeads,
  saved: { readonly streams: ReadonlyMap<string, StreamHead> },
): AnchorVerdict {
  for (const streamName of [...saved.streams.keys()].sort(byName)) {
    const anchor = saved.streams.get(streamName)!;
    const problem = (kind: AnchorProblem['kind'], reason: string): AnchorVerdict => ({
      ok: false,
      problem: { kind, streamName, revision: anchor.revision, reason },
    });
    const head = reached.streams.get(streamName);
    if (head === undefined) {
      return problem(
        'missing',
        `the stream is gone: it had events up to revision ${anchor.revision} when the heads were taken`,
      );
    }
    if (head.revision < anchor.revision) {
      return problem(
        'truncated',
        `the stream ends at revision ${head.revision}, but had reached revision ${anchor.revision} ` +
          'when the heads were taken: its newest events were cut off',
      );
    }
    // An absent hash counts as a mismatch: never "ok" for an anchor that was not compared.
    if (reached.anchoredHashes.get(streamName) !== anchor.hash) {
      return problem(
        'rewritten',
        `the event at revision ${anchor.revision} no longer carries the hash it had when the heads were ` +
          'taken: the stream was rewritten up to there and its hashes recomputed',
      );
    }
  }
  return { ok: true, anchored: saved.streams.size };
}
