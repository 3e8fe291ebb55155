/**
 * Failed attempts per end-user address, across every user: the layer between the per-user
 * lockout (which an attacker spraying many users never reaches) and the web tier as a whole
 * (which must never be throttled: it is one caller acting for every user).
 *
 * A fixed window per key: the first failure opens a window of `windowMs`; once it holds
 * `failuresPerWindow` failures, attempts are refused until the window ends. Memory is bounded:
 * past `maxKeys` addresses, expired windows go first, then the oldest.
 */
export type FailureThrottle = {
  /** seconds until `key` may try again, or null when it may try now */
  retryAfterSeconds(key: string, nowMs: number): number | null;
  recordFailure(key: string, nowMs: number): void;
};

export type FailureThrottleOptions = {
  readonly failuresPerWindow: number;
  readonly windowMs?: number;
  readonly maxKeys?: number;
};

type Window = { readonly startMs: number; failures: number };

export const DEFAULT_THROTTLE_WINDOW_MS = 60_000;
const DEFAULT_MAX_KEYS = 100_000;

export function createFailureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const windowMs = options.windowMs ?? DEFAULT_THROTTLE_WINDOW_MS;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const windows = new Map<string, Window>();
  const live = (window: Window | undefined, nowMs: number): window is Window =>
    window !== undefined && nowMs < window.startMs + windowMs;

  function makeRoom(nowMs: number): void {
    if (windows.size < maxKeys) return;
    for (const [key, window] of windows) if (!live(window, nowMs)) windows.delete(key);
    // Insertion order is age order: the oldest windows are the first to go.
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(key);
    }
  }

  return {
    retryAfterSeconds(key, nowMs) {
      const window = windows.get(key);
      if (!live(window, nowMs) || window.failures < options.failuresPerWindow) return null;
      return Math.max(1, Math.ceil((window.startMs + windowMs - nowMs) / 1000));
    },
    recordFailure(key, nowMs) {
      const window = windows.get(key);
      if (live(window, nowMs)) {
        window.failures++;
        return;
      }
      windows.delete(key);
      makeRoom(nowMs);
      windows.set(key, { startMs: nowMs, failures: 1 });
    },
  };
}
