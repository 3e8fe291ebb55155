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
  type Instance = Promise<Result> & { stop(): void };
  export default function autocannon(options: Options): Instance;
}
