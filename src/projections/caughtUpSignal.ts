/**
 * Whether the runner has applied everything up to the log's head as of its (re)start, and
 * the promises waiting for that moment. A reset clears it (what was served is gone until the
 * catch-up brings it back) without failing anyone already waiting.
 */
export class CaughtUpSignal {
  #caughtUp = false;
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  get value(): boolean {
    return this.#caughtUp;
  }

  reset(): void {
    this.#caughtUp = false;
  }

  wait(): Promise<void> {
    if (this.#caughtUp) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  settle(): void {
    this.#caughtUp = true;
    for (const waiter of this.#drain()) waiter.resolve();
  }

  /** Everyone waiting is told the catch-up will not happen; the value stays as it was. */
  fail(error: Error): void {
    for (const waiter of this.#drain()) waiter.reject(error);
  }

  #drain() {
    const waiters = this.#waiters;
    this.#waiters = [];
    return waiters;
  }
}
