import { describe, expect, it } from 'vitest';
import { HOUR, MINUTE, T0 } from '../testing/clock.ts';
import { failuresBeforeNextLock, isLocked, lockAfterFailure, noLockout } from './lockout.ts';

describe('lockAfterFailure: the lock each consecutive failure triggers', () => {
  it.each([1, 2, 3, 4, 6, 9, 11, 99])('failure %i: no lock', (failures) => {
    expect(lockAfterFailure(failures, T0)).toBeUndefined();
  });

  it.each([
    [5, 1 * MINUTE],
    [10, 2 * MINUTE],
    [15, 4 * MINUTE],
    [20, 8 * MINUTE],
    [25, 16 * MINUTE],
    [30, 32 * MINUTE],
    [35, HOUR],
    [95, HOUR],
  ])('failure %i: locked for %i ms', (failures, duration) => {
    expect(lockAfterFailure(failures, T0)).toBe(T0 + duration);
  });

  it.each([100, 101, 150])('failure %i: locked until an administrator unlocks', (failures) => {
    expect(lockAfterFailure(failures, T0)).toBeNull();
  });
});

describe('failuresBeforeNextLock: how many more failures lock the factor', () => {
  it.each([
    [0, 5],
    [1, 4],
    [3, 2],
    [4, 1],
    [5, 5],
    [8, 2],
    [97, 3],
  ])('after %i failures in a row: %i more', (failures, more) => {
    const next = failuresBeforeNextLock(failures);
    expect(next.failures).toBe(more);
    // The failure they lead to is the one lockAfterFailure locks at, and none before it.
    expect(lockAfterFailure(failures + more, T0)).not.toBeUndefined();
    for (let before = failures + 1; before < failures + more; before++) {
      expect(lockAfterFailure(before, T0)).toBeUndefined();
    }
  });

  it('says when the next lock is the one only an administrator lifts', () => {
    expect(failuresBeforeNextLock(94).permanent).toBe(false);
    expect(failuresBeforeNextLock(95)).toEqual({ failures: 5, permanent: true });
    expect(failuresBeforeNextLock(99)).toEqual({ failures: 1, permanent: true });
    expect(lockAfterFailure(100, T0)).toBeNull();
  });
});

describe('isLocked', () => {
  it('no lockout is not locked', () => {
    expect(isLocked(noLockout, T0)).toBe(false);
  });

  it('a temporary lock holds before its end and not from its end on', () => {
    const lockout = { consecutiveFailures: 5, lockedUntilMs: T0, permanent: false, refusalRecorded: false };
    expect(isLocked(lockout, T0 - 1)).toBe(true);
    expect(isLocked(lockout, T0)).toBe(false);
  });

  it('a lock until admin holds forever', () => {
    expect(
      isLocked(
        { consecutiveFailures: 100, lockedUntilMs: null, permanent: true, refusalRecorded: false },
        T0 + 10 * 365 * 24 * HOUR,
      ),
    ).toBe(true);
  });
});
