/** How one item of a batch turned out; a batch answers each item on its own. */
export type ItemOutcome<R> =
  | { readonly ok: true; readonly value: R }
  | { readonly ok: false; readonly error: unknown };

export type GroupCommitOptions = {
  /** upper bound on one transaction, so a burst cannot hold the write lock for long */
  readonly maxBatchSize?: number;
  /** when to run the next flush; injectable for tests */
  readonly schedule?: (flush: () => void) => void;
};

type Pending<T, R> = {
  readonly item: T;
  readonly resolve: (value: R) => void;
  readonly reject: (error: unknown) => void;
};

/**
 * Collects work submitted while a flush is pending and hands it to `commitBatch` in one go,
 * so many appends share one transaction and one fsync. One batch is committed at a time:
 * whatever arrives while it commits (elsewhere, off this thread) waits and forms the next
 * batch, so the slower the disk, the larger the batches. `commitBatch` answers one outcome
 * per item, or fails as a whole (throws or rejects), which then fails every item in it.
 */
export class GroupCommit<T, R> {
  readonly #commitBatch: (
    items: readonly T[],
  ) => readonly ItemOutcome<R>[] | Promise<readonly ItemOutcome<R>[]>;
  readonly #maxBatchSize: number;
  readonly #schedule: (flush: () => void) => void;
  #pending: Pending<T, R>[] = [];
  #scheduled = false;
  #inFlight: Promise<void> | null = null;

  constructor(
    commitBatch: (items: readonly T[]) => readonly ItemOutcome<R>[] | Promise<readonly ItemOutcome<R>[]>,
    options: GroupCommitOptions = {},
  ) {
    this.#commitBatch = commitBatch;
    this.#maxBatchSize = options.maxBatchSize ?? 1000;
    // setImmediate rather than a microtask: it lets the I/O callbacks of the current loop turn
    // (other requests reaching their append) join the batch.
    this.#schedule = options.schedule ?? ((flush) => setImmediate(flush));
    if (!Number.isInteger(this.#maxBatchSize) || this.#maxBatchSize < 1) {
      throw new RangeError('maxBatchSize must be a positive integer');
    }
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#ensureScheduled();
    });
  }

  /** Commits everything pending now, batch after batch, after the one in flight (used when closing). */
  async flushAll(): Promise<void> {
    for (;;) {
      if (this.#inFlight !== null) await this.#inFlight;
      else if (this.#pending.length > 0) await this.#flushOne();
      else return;
    }
  }

  #ensureScheduled(): void {
    if (this.#scheduled || this.#inFlight !== null) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      if (this.#inFlight === null) void this.#flushOne();
    });
  }

  #flushOne(): Promise<void> {
    const batch = this.#pending.splice(0, this.#maxBatchSize);
    if (batch.length === 0) return Promise.resolve();
    const flushed = this.#commit(batch).finally(() => {
      this.#inFlight = null;
      // What arrived meanwhile is the next batch.
      if (this.#pending.length > 0) this.#ensureScheduled();
    });
    this.#inFlight = flushed;
    return flushed;
  }

  async #commit(batch: readonly Pending<T, R>[]): Promise<void> {
    let outcomes: readonly ItemOutcome<R>[];
    try {
      outcomes = await this.#commitBatch(batch.map((pending) => pending.item));
      if (outcomes.length !== batch.length) {
        throw new Error(`commitBatch answered ${outcomes.length} outcomes for ${batch.length} items`);
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }
}
