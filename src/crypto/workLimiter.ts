import { availableParallelism } from 'node:os';

/**
 * Shares expensive work (argon2) fairly. Two kinds of job:
 *
 * - **Proven** work — issuing ten recovery codes for a user who has just proven a TOTP code —
 *   is never shed: it waits in its own queue, served ahead of everything else.
 * - **Unproven** work — checking a presented recovery code — is shared by *key* (the end-user
 *   address, or the API key when there is none): at most one job per key is in flight; more
 *   from the same key wait their turn briefly. A job is shed with `WorkOverloadedError` (a
 *   `503` for the caller) when the wait it would have exceeds `maxWaitMs`, judged by the
 *   measured cost of one computation (and, until that is known, by the wait itself). When the
 *   queue is full, a newcomer from a key that has used little lately takes the place of a
 *   queued job from the key that has used the most: a flood from a few addresses cannot keep
 *   another address out.
 *
 * At most `maxConcurrent` computations run at once. Work that never comes here (status reads,
 * TOTP codes) is never held up by it.
 */
export class WorkOverloadedError extends Error {
  override readonly name = 'WorkOverloadedError';
  constructor() {
    super('too much expensive work at once; try again in a moment');
  }
}

/** What a job is and whose it is. */
export type WorkTicket =
  | { readonly proven: true }
  | {
      readonly proven: false;
      /** the fair-share bucket: one job in flight per key */
      readonly key: string;
    };

/** Runs one computation when a turn is free. */
export type Slot = <U>(computation: () => Promise<U>) => Promise<U>;

export type WorkLimiter = {
  /**
   * Admits one job, or sheds it (unproven work only). The job runs each computation through
   * `slot`: a set of ten hashes is one job, admitted as a whole.
   */
  run<T>(ticket: WorkTicket, job: (slot: Slot) => Promise<T>): Promise<T>;
};

export type WorkLimiterOptions = {
  readonly maxConcurrent: number;
  /** the longest an unproven job should wait for its turn; past it, it is shed */
  readonly maxWaitMs: number;
  /** the clock the waits are measured with; default `performance.now` */
  readonly now?: () => number;
  /** how fast a key's recent use is forgotten: the half-life of its score */
  readonly usageHalfLifeMs?: number;
};

export const DEFAULT_MAX_WAIT_MS = 2_000;
const DEFAULT_USAGE_HALF_LIFE_MS = 10_000;
/** A queued check is shed once it has waited this many times the longest wait it was admitted for. */
const OVERDUE_FACTOR = 2;
/** Weight of the newest measurement in the running estimate of a computation's cost. */
const COST_SMOOTHING = 0.2;
/** Keys remembered for their recent use; the least recent go first past it. */
const MAX_KEYS_REMEMBERED = 100_000;

type Waiter = {
  readonly ticket: WorkTicket;
  readonly start: () => void;
  readonly shed: (error: WorkOverloadedError) => void;
  /** unproven only: shed when the turn has not come by then */
  readonly deadline: number | null;
};

type KeyLine = { active: boolean; readonly waiting: (() => void)[] };

export function createWorkLimiter(options: WorkLimiterOptions): WorkLimiter {
  const now = options.now ?? (() => performance.now());
  const halfLife = options.usageHalfLifeMs ?? DEFAULT_USAGE_HALF_LIFE_MS;
  let running = 0;
  /** measured cost of one computation, ms; null until one has run */
  let costMs: number | null = null;
  const proven: Waiter[] = [];
  const unproven: Waiter[] = [];
  const lines = new Map<string, KeyLine>();
  const usage = new Map<string, { score: number; atMs: number }>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const scoreOf = (key: string, atMs: number): number => {
    const used = usage.get(key);
    return used === undefined ? 0 : used.score * 0.5 ** ((atMs - used.atMs) / halfLife);
  };
  const used = (key: string): void => {
    const atMs = now();
    const score = scoreOf(key, atMs) + 1;
    usage.delete(key);
    usage.set(key, { score, atMs });
    if (usage.size > MAX_KEYS_REMEMBERED) usage.delete(usage.keys().next().value as string);
  };

  /** How long a computation queued now would wait for a turn, by the measured cost. */
  const impliedWaitMs = (): number | null =>
    costMs === null ? null : ((proven.length + unproven.length + running) * costMs) / options.maxConcurrent;

  function dispatch(): void {
    while (running < options.maxConcurrent) {
      const next = proven.shift() ?? unproven.shift();
      if (next === undefined) break;
      running++;
      next.start();
    }
    armTimer();
  }

  /** Sheds queued unproven computations whose turn has not come in time. */
  function expire(): void {
    timer = null;
    const at = now();
    for (let i = unproven.length - 1; i >= 0; i--) {
      const waiter = unproven[i]!;
      if (waiter.deadline !== null && waiter.deadline <= at) {
        unproven.splice(i, 1);
        waiter.shed(new WorkOverloadedError());
      }
    }
    armTimer();
  }

  function armTimer(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const deadlines = unproven.map((w) => w.deadline).filter((d): d is number => d !== null);
    if (deadlines.length === 0) return;
    timer = setTimeout(expire, Math.max(0, Math.min(...deadlines) - now()));
    timer.unref?.();
  }

  /**
   * Room for one more unproven computation: the queue's wait allows it, or a queued job of a
   * key that has used more lately gives up its place.
   */
  function makeRoom(ticket: WorkTicket & { proven: false }): boolean {
    const wait = impliedWaitMs();
    if (wait === null || wait <= options.maxWaitMs) return true;
    const at = now();
    const mine = scoreOf(ticket.key, at);
    let victim = -1;
    let most = mine;
    unproven.forEach((waiter, index) => {
      if (waiter.ticket.proven) return;
      const score = scoreOf(waiter.ticket.key, at);
      if (score > most) {
        most = score;
        victim = index;
      }
    });
    if (victim < 0) return false;
    const [displaced] = unproven.splice(victim, 1);
    displaced?.shed(new WorkOverloadedError());
    return true;
  }

  function slotFor(ticket: WorkTicket): Slot {
    return (computation) =>
      new Promise((resolve, reject) => {
        if (!ticket.proven && !makeRoom(ticket)) {
          reject(new WorkOverloadedError());
          return;
        }
        const waiter: Waiter = {
          ticket,
          // A backstop: admitted by the estimate, a check still gives up if its turn is long
          // overdue (the cost rose, or proven work came in ahead of it).
          deadline: ticket.proven ? null : now() + OVERDUE_FACTOR * options.maxWaitMs,
          shed: reject,
          start: () => {
            const startedAt = now();
            if (!ticket.proven) used(ticket.key);
            computation()
              .then(resolve, reject)
              .finally(() => {
                const took = now() - startedAt;
                costMs = costMs === null ? took : costMs + COST_SMOOTHING * (took - costMs);
                running--;
                dispatch();
              });
          },
        };
        (ticket.proven ? proven : unproven).push(waiter);
        dispatch();
      });
  }

  /** Waits for the key's turn (one job in flight per key), or sheds when it would wait too long. */
  async function turnOf(key: string): Promise<KeyLine> {
    const line = lines.get(key) ?? { active: false, waiting: [] };
    lines.set(key, line);
    if (!line.active) {
      line.active = true;
      return line;
    }
    // Each job ahead costs at least one computation: a line longer than the wait allows is shed now.
    if (costMs !== null && (line.waiting.length + 1) * costMs > options.maxWaitMs) {
      throw new WorkOverloadedError();
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        clearTimeout(giveUp);
        resolve();
      };
      const giveUp = setTimeout(() => {
        const index = line.waiting.indexOf(go);
        if (index >= 0) line.waiting.splice(index, 1);
        reject(new WorkOverloadedError());
      }, options.maxWaitMs);
      giveUp.unref?.();
      line.waiting.push(go);
    });
    return line;
  }

  function leave(key: string, line: KeyLine): void {
    const next = line.waiting.shift();
    if (next !== undefined) {
      next();
      return;
    }
    line.active = false;
    lines.delete(key);
  }

  return {
    async run(ticket, job) {
      if (ticket.proven) return job(slotFor(ticket));
      const line = await turnOf(ticket.key);
      try {
        return await job(slotFor(ticket));
      } finally {
        leave(ticket.key, line);
      }
    },
  };
}

/**
 * Sized to the machine: one core is left to the event loop (status reads, TOTP codes,
 * appends), the others may hash; an unproven check waits at most about two seconds of
 * hashing at the measured cost.
 */
export function argon2Limits(cores = availableParallelism()): WorkLimiterOptions {
  return { maxConcurrent: Math.max(1, cores - 1), maxWaitMs: DEFAULT_MAX_WAIT_MS };
}

/** No bound: for tools and tests that do one thing at a time. */
export const unlimitedWork: WorkLimiter = { run: (_ticket, job) => job((computation) => computation()) };
