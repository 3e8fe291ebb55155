/** Streams whose head is remembered (about 100 bytes each); the least recently used go first. */
const MAX_KNOWN_HEADS = 50_000;

/**
 * For each stream recently read or appended through this store, a revision no event of it
 * lies beyond — valid while the log's last position is the one these heads were learnt at,
 * or has moved only by this store's own commits (whose heads it is told). Then a read of a
 * stream's tail, as every read-your-writes load does, is answered without a query. Any
 * other move of the log (another process, another store on the file) forgets them all.
 */
export class StreamHeads {
  readonly #heads = new Map<string, bigint>();
  readonly #lastPosition: () => bigint;
  /** the log's last position the heads are valid at; null: not looked at yet */
  #validAt: bigint | null = null;

  /** `lastPosition`: the log's last position as a read now sees it */
  constructor(lastPosition: () => bigint) {
    this.#lastPosition = lastPosition;
  }

  /**
   * The bound for a stream, after forgetting every bound if the log moved by someone else's
   * hand. A stream with no bound costs no look at the log (a cold load reads it anyway); a
   * bound remembered meanwhile comes from a read that saw the log as it was then, and the
   * next look that finds the log moved forgets it with the rest.
   */
  known(streamName: string): bigint | undefined {
    if (!this.#heads.has(streamName)) return undefined;
    const last = this.#lastPosition();
    if (last !== this.#validAt) {
      this.#heads.clear();
      this.#validAt = last;
    }
    return this.#heads.get(streamName);
  }

  remember(streamName: string, head: bigint): void {
    this.#heads.delete(streamName);
    this.#heads.set(streamName, head);
    if (this.#heads.size > MAX_KNOWN_HEADS) {
      const oldest = this.#heads.keys().next().value;
      if (oldest !== undefined) this.#heads.delete(oldest);
    }
  }

  /**
   * This store committed a batch that found the log ending at `lastBefore` and left it at
   * `lastAfter`. If the log had moved since the heads were learnt, someone else wrote in
   * between: forget them all. `heads` are the batch's streams (null: head unknown).
   */
  committed(
    lastBefore: bigint,
    lastAfter: bigint,
    heads: readonly (readonly [string, bigint | null])[],
  ): void {
    if (lastBefore !== this.#validAt) this.#heads.clear();
    this.#validAt = lastAfter;
    for (const [streamName, head] of heads) {
      if (head === null) this.#heads.delete(streamName);
      else this.remember(streamName, head);
    }
  }
}
