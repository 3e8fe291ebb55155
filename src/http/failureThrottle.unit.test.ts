import { describe, expect, it } from 'vitest';
import { createFailureThrottle } from './failureThrottle.ts';

const T0 = 1_000_000;

describe('failure throttle', () => {
  it('lets an address fail up to the limit in a window, then refuses it until the window ends', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfterSeconds('ip:a', T0 + i)).toBeNull();
      throttle.recordFailure('ip:a', T0 + i);
    }
    expect(throttle.retryAfterSeconds('ip:a', T0 + 10)).toBe(60);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 30_500)).toBe(30);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 59_999)).toBe(1);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 60_000)).toBeNull();
  });

  it('keeps addresses apart', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 1 });
    throttle.recordFailure('ip:a', T0);
    expect(throttle.retryAfterSeconds('ip:a', T0)).not.toBeNull();
    expect(throttle.retryAfterSeconds('ip:b', T0)).toBeNull();
  });

  it('opens a fresh window after the last one ended', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 2, windowMs: 1_000 });
    throttle.recordFailure('ip:a', T0);
    throttle.recordFailure('ip:a', T0 + 1_500);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 1_600)).toBeNull();
    throttle.recordFailure('ip:a', T0 + 1_700);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 1_800)).toBe(1);
  });

  it('holds at most maxKeys addresses, dropping expired windows first, then the oldest', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 1, windowMs: 1_000, maxKeys: 2 });
    throttle.recordFailure('ip:old', T0);
    throttle.recordFailure('ip:a', T0 + 900);
    throttle.recordFailure('ip:b', T0 + 1_100); // ip:old has expired and makes room
    expect(throttle.retryAfterSeconds('ip:a', T0 + 1_100)).not.toBeNull();
    expect(throttle.retryAfterSeconds('ip:b', T0 + 1_100)).not.toBeNull();
    throttle.recordFailure('ip:c', T0 + 1_200); // none expired: the oldest (ip:a) goes
    expect(throttle.retryAfterSeconds('ip:a', T0 + 1_200)).toBeNull();
    expect(throttle.retryAfterSeconds('ip:b', T0 + 1_200)).not.toBeNull();
    expect(throttle.retryAfterSeconds('ip:c', T0 + 1_200)).not.toBeNull();
  });

  it('reserves attempts as they are admitted, so a burst cannot pass before any of it failed', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 3 });
    const admitted = Array.from({ length: 10 }, () => throttle.reserve('ip:a', T0)).filter((w) => w === null);
    expect(admitted).toHaveLength(3);
    // One of them succeeded after all: its place is given back.
    throttle.release('ip:a', T0);
    expect(throttle.reserve('ip:a', T0 + 1)).toBeNull();
    expect(throttle.reserve('ip:a', T0 + 2)).not.toBeNull();
  });

  it('gives nothing back to a window opened after the reservation', () => {
    const throttle = createFailureThrottle({ failuresPerWindow: 1, windowMs: 1_000 });
    expect(throttle.reserve('ip:a', T0)).toBeNull();
    throttle.recordFailure('ip:a', T0 + 1_500); // a new window
    throttle.release('ip:a', T0);
    expect(throttle.retryAfterSeconds('ip:a', T0 + 1_600)).not.toBeNull();
  });
});
