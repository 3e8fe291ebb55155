import { describe, expect, it } from 'vitest';
import { WakeSignal } from './wakeSignal.ts';

const longWaitMs = 60_000;

describe('WakeSignal', () => {
  it('wakes a waiter on notify, long before the timeout', async () => {
    const signal = new WakeSignal();
    let woken = false;
    const waiting = signal.wait(longWaitMs).then(() => {
      woken = true;
    });

    await Promise.resolve();
    expect(woken).toBe(false);
    signal.notify();
    await waiting;

    expect(woken).toBe(true);
  });

  it('remembers a notify that came before the wait, until reset', async () => {
    const signal = new WakeSignal();
    signal.notify();

    // Would hang for a minute (and time the test out) if the early notify were lost.
    await signal.wait(longWaitMs);

    signal.reset();
    let woken = false;
    void signal.wait(longWaitMs).then(() => {
      woken = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(woken).toBe(false);
    signal.notify();
  });

  it('gives up waiting after the timeout: the poll', async () => {
    const signal = new WakeSignal();

    await expect(signal.wait(5)).resolves.toBeUndefined();
  });
});
