import type { RecordedEvent, Subscription } from '../eventStore.ts';
import { WakeSignal } from './wakeSignal.ts';

export type SubscriptionSource = {
  /** up to `limit` events with a position strictly after `after`, in position order */
  readPage(after: bigint, limit: number): readonly RecordedEvent[];
};

export type SubscriptionOptions = {
  readonly after: bigint;
  readonly pageSize: number;
  readonly pollIntervalMs: number;
  /** called once the subscription has ended, however it ended */
  readonly onEnd: (subscription: SqliteSubscription) => void;
};

/**
 * Catch-up then live, in one loop: read the next page after the last delivered position; when
 * a page comes back short the log is caught up, so wait for a wake (a commit in this process)
 * or the poll timeout (a commit by another process), then read again. Reading strictly after
 * the last delivered position gives order and exactly-once; SQLite assigns positions under the
 * write lock and readers only see committed transactions, so a position once seen can never
 * be preceded by a smaller one committed later, hence no gaps.
 */
export class SqliteSubscription implements Subscription {
  readonly #source: SubscriptionSource;
  readonly #options: SubscriptionOptions;
  readonly #wake = new WakeSignal();
  #closed = false;
  #iterated = false;

  constructor(source: SubscriptionSource, options: SubscriptionOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** There may be new events. */
  notify(): void {
    this.#wake.notify();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#wake.notify();
    // Also here, not only when the loop ends: a subscription never iterated has no loop to end.
    this.#options.onEnd(this);
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    // One cursor per subscription: a second loop over the same object would silently split or
    // repeat events, so it is refused.
    if (this.#iterated) throw new Error('a subscription can be iterated only once');
    this.#iterated = true;
    return this.#run();
  }

  async *#run(): AsyncGenerator<RecordedEvent> {
    const { pageSize, pollIntervalMs } = this.#options;
    let cursor = this.#options.after;
    try {
      while (!this.#closed) {
        this.#wake.reset();
        const page = this.#source.readPage(cursor, pageSize);
        for (const event of page) {
          yield event;
          cursor = event.position;
          if (this.#closed) return;
        }
        if (page.length < pageSize) await this.#wake.wait(pollIntervalMs);
      }
    } finally {
      this.#closed = true;
      this.#options.onEnd(this);
    }
  }
}
