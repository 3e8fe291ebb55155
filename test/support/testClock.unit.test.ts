import { afterEach, describe, expect, it } from 'vitest';
import { testClock } from './testService.ts';

describe('the test clock, the hook on the server clock', () => {
  const before = process.env.NODE_ENV;
  afterEach(() => {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  });

  it('moves only when the test moves it', () => {
    const clock = testClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(72 * 3_600_000);
    expect(clock.now()).toBe(1_000 + 72 * 3_600_000);
    clock.set(5);
    expect(clock.now()).toBe(5);
  });

  it('is refused with NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production';
    expect(() => testClock()).toThrow(/for tests only: refused with NODE_ENV=production/);
  });
});
