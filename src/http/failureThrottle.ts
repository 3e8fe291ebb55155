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
  /**
   * Admits an attempt by counting it as a failure before it runs, so that requests in flight
   * at once cannot all pass a check made before any of them failed: seconds to wait, or null
   * when admitted. An attempt that turns out not to fail is given back with `release`.
   */
  reserve(key: string, nowMs: number): number | null;
  /** gives back an attempt reserved in the window that is still open */
  release(key: string, reservedAtMs: number): void;
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
    // Insertion order is the order windows opened: the expired ones come first, and the
    // oldest live ones after them, so neither loop reads past what it removes.
    for (const [key, window] of windows) {
      if (live(window, nowMs)) break;
      windows.delete(key);
    }
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(key);
    }
  }

  function retryAfterSeconds(key: string, nowMs: number): number | null {
    const window = windows.get(key);
    if (!live(window, nowMs) || window.failures < options.failuresPerWindow) return null;
    return Math.max(1, Math.ceil((window.startMs + windowMs - nowMs) / 1000));
  }

  function recordFailure(key: string, nowMs: number): void {
    const window = windows.get(key);
    if (live(window, nowMs)) {
      window.failures++;
      return;
    }
    windows.delete(key);
    makeRoom(nowMs);
    windows.set(key, { startMs: nowMs, failures: 1 });
  }

  return {
    retryAfterSeconds,
    recordFailure,
    reserve(key, nowMs) {
      const wait = retryAfterSeconds(key, nowMs);
      if (wait === null) recordFailure(key, nowMs);
      return wait;
    },
    release(key, reservedAtMs) {
      const window = windows.get(key);
      if (window !== undefined && window.startMs <= reservedAtMs && window.failures > 0) window.failures--;
    },
  };
}
