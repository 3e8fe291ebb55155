import { describe, expect, it } from 'vitest';
import { progressBar, progressLine, progressReporter } from './progress.ts';

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  return {
    written,
    stream: { isTTY, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WritableStream & {
      isTTY: boolean;
    },
  };
}

describe('progress formatting', () => {
  it('draws a bar with percentage, counts and, once meaningful, a rate', () => {
    expect(progressBar({ done: 5_000, total: 10_000, elapsedMs: 2_500 }, 10)).toBe(
      '[#####.....]  50% 5,000/10,000 events · 2,000 events/s',
    );
    expect(progressBar({ done: 10, total: 10_000, elapsedMs: 200 }, 10)).toBe(
      '[..........]   0% 10/10,000 events',
    );
    expect(progressBar({ done: 12_000, total: 10_000, elapsedMs: 1_000 }, 4)).toMatch(/^\[####\] 100% /);
  });

  it('counts without a bar when the total is unknown', () => {
    expect(progressBar({ done: 1_234_567, total: null, elapsedMs: 1_000 })).toBe(
      '1,234,567 events · 1,234,567 events/s',
    );
    expect(progressLine({ done: 50_000, total: 200_000, elapsedMs: 10_000 })).toBe(
      '50,000 of 200,000 events · 5,000 events/s',
    );
  });
});

describe('progressReporter', () => {
  it('on a terminal redraws one line in place, at most every 100 ms, and ends it', () => {
    let now = 0;
    const { stream, written } = fakeStream(true);
    const progress = progressReporter(stream, { label: 'rebuilding', now: () => now });
    progress.update(1, 100);
    now = 50;
    progress.update(2, 100); // too soon: skipped
    now = 150;
    progress.update(3, 100);
    progress.update(100, 100); // the last one is always drawn
    progress.finish();
    expect(written).toHaveLength(4);
    expect(written.slice(0, 3).every((text) => text.startsWith('\r\x1b[2Krebuilding ['))).toBe(true);
    expect(written[2]).toContain('100/100 events');
    expect(written[3]).toBe('\n');
  });

  it('elsewhere writes a plain line every so many events, and nothing for a short run', () => {
    let now = 0;
    const { stream, written } = fakeStream(false);
    const progress = progressReporter(stream, { label: 'verifying', now: () => now, every: 1_000 });
    for (let done = 1; done <= 2_500; done++) {
      now = done;
      progress.update(done);
    }
    progress.finish();
    expect(written).toEqual([
      'verifying: 1,000 events · 1,000 events/s\n',
      'verifying: 2,000 events · 1,000 events/s\n',
    ]);

    const short = fakeStream(false);
    const quiet = progressReporter(short.stream, { label: 'verifying', now: () => 0, every: 1_000 });
    quiet.update(999);
    quiet.finish();
    expect(short.written).toEqual([]);
  });
});
