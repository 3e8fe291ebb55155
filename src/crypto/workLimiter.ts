import { availableParallelism } from 'node:os';

/**
 * Bounds expensive work (argon2): at most `maxConcurrent` computations run at once, and at
 * most `maxQueued` jobs wait for a turn. Beyond that a job is shed at once with
 * `WorkOverloadedError` — a flood of wrong recovery codes gets 503s instead of a queue that
 * makes every sign-in wait. Work that never comes here (status reads, TOTP codes) is never
 * held up by it.
 */
export class WorkOverloadedError extends Error {
  override readonly name = 'WorkOverloadedError';
  constructor() {
    super('too much expensive work at once; try again in a moment');
  }
}

export type WorkLimiter = {
  /**
   * Admits one job, or sheds it. The job runs each computation through `slot`, which waits
   * for a free turn: a set of ten hashes is one job, admitted or shed as a whole.
   */
  run<T>(job: (slot: <U>(computation: () => Promise<U>) => Promise<U>) => Promise<T>): Promise<T>;
};

export function createWorkLimiter(options: {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
}): WorkLimiter {
  let running = 0;
  let admitted = 0;
  const waiting: (() => void)[] = [];

  const acquire = async (): Promise<void> => {
    if (running < options.maxConcurrent) {
      running++;
      return;
    }
    // The turn is handed over by `release`, so `running` stays counted for the waiter.
    await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  const slot = async <U>(computation: () => Promise<U>): Promise<U> => {
    await acquire();
    try {
      return await computation();
    } finally {
      release();
    }
  };

  return {
    async run(job) {
      if (admitted >= options.maxConcurrent + options.maxQueued) throw new WorkOverloadedError();
      admitted++;
      try {
        return await job(slot);
      } finally {
        admitted--;
      }
    },
  };
}

/**
 * Sized to the machine: one core is left to the event loop (status reads, TOTP codes,
 * appends), the others may hash; a short queue absorbs a burst of honest sign-ins.
 */
export function argon2Limits(cores = availableParallelism()) {
  const maxConcurrent = Math.max(1, cores - 1);
  return { maxConcurrent, maxQueued: 4 * maxConcurrent };
}

/** No bound: for tools and tests that do one thing at a time. */
export const unlimitedWork: WorkLimiter = { run: (job) => job((computation) => computation()) };
