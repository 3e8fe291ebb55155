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
 * so many appends share one transaction and one fsync. `commitBatch` is synchronous (it wraps
 * a better-sqlite3 transaction): it returns one outcome per item, or throws when the batch as
 * a whole failed, which then fails every item in it.
 */
export class GroupCommit<T, R> {
  readonly #commitBatch: (items: readonly T[]) => readonly ItemOutcome<R>[];
  readonly #maxBatchSize: number;
  readonly #schedule: (flush: () => void) => void;
  #pending: Pending<T, R>[] = [];
  #scheduled = false;

  constructor(
    commitBatch: (items: readonly T[]) => readonly ItemOutcome<R>[],
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

  /** Commits everything pending right now, batch after batch (used when closing). */
  flushAll(): void {
    while (this.#pending.length > 0) this.#flushOne();
  }

  #ensureScheduled(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(() => {
      this.#scheduled = false;
      this.#flushOne();
      // Anything beyond one batch waits for the next turn, so reads and timers get a say in between.
      if (this.#pending.length > 0) this.#ensureScheduled();
    });
  }

  #flushOne(): void {
    const batch = this.#pending.splice(0, this.#maxBatchSize);
    if (batch.length === 0) return;
    let outcomes: readonly ItemOutcome<R>[];
    try {
      outcomes = this.#commitBatch(batch.map((pending) => pending.item));
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
