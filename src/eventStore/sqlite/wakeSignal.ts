/**
 * Wakes one waiting reader when there may be something new to read. A wake that arrives
 * while nobody waits is remembered, so a notification between "read the last page" and
 * "start waiting" is never lost; the timeout is the slow poll that catches writes from other
 * processes, which no in-process notification can announce.
 */
export class WakeSignal {
  #pending = false;
  #wakeWaiter: (() => void) | undefined;

  notify(): void {
    this.#pending = true;
    this.#wakeWaiter?.();
  }

  /** Forget earlier wakes: called right before reading, since the read sees what they announced. */
  reset(): void {
    this.#pending = false;
  }

  /** Resolves on the next notify (or at once if one is pending), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#pending) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wakeWaiter === done) this.#wakeWaiter = undefined;
        resolve();
      };
      // unref: an idle subscription alone must not keep the process alive.
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      this.#wakeWaiter = done;
    });
  }
}
