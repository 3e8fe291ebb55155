/** Streams whose head is remembered (about 100 bytes each); the least recently used go first. */
const MAX_KNOWN_HEADS = 50_000;

/**
 * For each stream recently read or appended by this connection, a revision no event of it
 * lies beyond. Valid only while no other connection has committed (`PRAGMA data_version`
 * unchanged; this connection's own commits update it): then a read of a stream's tail, as
 * every read-your-writes load does, is answered without a query.
 */
export class StreamHeads {
  readonly #heads = new Map<string, bigint>();
  readonly #dataVersion: () => number;
  #seenVersion = -1;

  /** `dataVersion`: the connection's `PRAGMA data_version`, which moves when another connection commits */
  constructor(dataVersion: () => number) {
    this.#dataVersion = dataVersion;
  }

  /** The bound for a stream, after forgetting every bound if another connection committed. */
  known(streamName: string): bigint | undefined {
    const version = this.#dataVersion();
    if (version !== this.#seenVersion) {
      this.#heads.clear();
      this.#seenVersion = version;
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

  forget(streamName: string): void {
    this.#heads.delete(streamName);
  }
}
