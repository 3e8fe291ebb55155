const count = new Intl.NumberFormat('en-US');

export type ProgressSnapshot = {
  readonly done: number;
  /** null when the end is not known in advance */
  readonly total: number | null;
  readonly elapsedMs: number;
};

/** Below this a rate is noise (start-up, the first page), so it is not shown. */
const RATE_AFTER_MS = 1_000;

const rateOf = ({ done, elapsedMs }: ProgressSnapshot): string =>
  elapsedMs >= RATE_AFTER_MS ? ` · ${count.format(Math.round((done * 1000) / elapsedMs))} events/s` : '';

/** A terminal progress line: `[#####.....]  50% 5,000/10,000 events · 2,000 events/s`. */
export function progressBar(progress: ProgressSnapshot, width = 30): string {
  const { done, total } = progress;
  if (total === null || total <= 0) return `${count.format(done)} events${rateOf(progress)}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent} ${count.format(done)}/${count.format(total)} events${rateOf(progress)}`;
}

/** A plain progress line for logs and pipes: `5,000 of 10,000 events · 2,000 events/s`. */
export function progressLine(progress: ProgressSnapshot): string {
  const of = progress.total === null ? '' : ` of ${count.format(progress.total)}`;
  return `${count.format(progress.done)}${of} events${rateOf(progress)}`;
}

export type ProgressReporter = {
  update(done: number, total?: number | null): void;
  /** ends the bar's line; call once, whatever the outcome */
  finish(): void;
};

/**
 * Progress of a long walk over the log, on stderr. On a terminal a bar redrawn in place (at
 * most ten times a second); elsewhere a plain line every `every` events, so a log file or
 * CI output shows it is alive without drowning in lines.
 */
export function progressReporter(
  stream: NodeJS.WritableStream & { readonly isTTY?: boolean },
  options: { readonly label: string; readonly now: () => number; readonly every?: number },
): ProgressReporter {
  const started = options.now();
  const every = options.every ?? 50_000;
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let nextLineAt = every;
  let drawn = false;
  const snapshot = (done: number, total: number | null): ProgressSnapshot => ({
    done,
    total,
    elapsedMs: options.now() - started,
  });
  return {
    update(done, total = null) {
      if (stream.isTTY) {
        const now = options.now();
        if (now - lastDrawn < 100 && done !== total) return;
        lastDrawn = now;
        drawn = true;
        // \r and "erase line": the bar replaces itself.
        stream.write(`\r\x1b[2K${options.label} ${progressBar(snapshot(done, total))}`);
        return;
      }
      if (done >= nextLineAt) {
        nextLineAt = (Math.floor(done / every) + 1) * every;
        stream.write(`${options.label}: ${progressLine(snapshot(done, total))}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
