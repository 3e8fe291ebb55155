import autocannon from 'autocannon';

export type LoadRequest = {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
};

export type LoadResult = {
  /** 2xx answers per second */
  readonly rate: number;
  readonly ok: number;
  readonly total: number;
  /** count of each status code seen */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly seconds: number;
  /** each 2xx answer's latency in ms, when asked for (`latencies: true`) */
  readonly latenciesMs?: readonly number[];
};

/**
 * One bounded HTTP load with autocannon: `amount` requests (then it stops), or `seconds`
 * when no amount is given; never longer than `timeoutMs` in any case. `next` gives each
 * request in turn, so every sign-in can carry another user's code.
 */
export async function httpLoad(input: {
  readonly url: string;
  readonly connections: number;
  readonly next: () => LoadRequest;
  readonly amount?: number;
  readonly seconds?: number;
  readonly timeoutMs?: number;
  /** keep every 2xx answer's latency (autocannon's own histogram counts whole milliseconds) */
  readonly latencies?: boolean;
  /** stop early (before `amount` or `seconds`) once this settles */
  readonly until?: Promise<unknown>;
}): Promise<LoadResult> {
  const began = performance.now();
  const instance = autocannon({
    url: input.url,
    connections: input.connections,
    ...(input.amount !== undefined ? { amount: input.amount } : { duration: input.seconds ?? 3 }),
    requests: [
      {
        setupRequest: (request: Record<string, unknown>) => {
          const next = input.next();
          return { ...request, ...next };
        },
      },
    ],
  });
  const latenciesMs: number[] = [];
  // Autocannon ends a run on its one-second tick: the last answer, not the end of the run,
  // marks how long the requests took.
  let lastAnswerAt = began;
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    lastAnswerAt = performance.now();
    if (input.latencies && statusCode >= 200 && statusCode < 300) latenciesMs.push(ms);
  });
  void input.until?.then(
    () => instance.stop(),
    () => instance.stop(),
  );
  const timeoutMs = input.timeoutMs ?? 60_000;
  const timer = setTimeout(() => instance.stop(), timeoutMs);
  const result = await instance;
  clearTimeout(timer);
  const seconds = (lastAnswerAt - began) / 1000;
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = Number(count);
  }
  const ok = Object.entries(statuses)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, count]) => sum + count, 0);
  const total = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  return {
    rate: ok / seconds,
    ok,
    total,
    statuses,
    errors: result.errors,
    seconds,
    ...(input.latencies ? { latenciesMs } : {}),
  };
}
