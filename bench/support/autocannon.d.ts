// autocannon ships no types; this declares the part of its API the benchmark uses.
declare module 'autocannon' {
  type Options = {
    url: string;
    connections?: number;
    amount?: number;
    duration?: number;
    requests?: { setupRequest?: (request: Record<string, unknown>) => Record<string, unknown> }[];
  };
  type Result = {
    errors: number;
    timeouts: number;
    duration: number;
    statusCodeStats?: Record<string, { count: number }>;
  };
  type Instance = Promise<Result> & {
    stop(): void;
    /** each answer: the client, its status code, bytes, and latency in (fractional) ms */
    on(
      event: 'response',
      listener: (client: unknown, statusCode: number, bytes: number, latencyMs: number) => void,
    ): void;
  };
  export default function autocannon(options: Options): Instance;
}
