/**
 * Runs a candidate and its baseline alternately, several rounds, and reports the median
 * ratio of their figures. Alternating cancels out most of the drift of a shared, noisy
 * machine; the ratio, not the absolute figure, is the result.
 */
export async function sideBySide(input: {
  readonly name: string;
  readonly rounds: number;
  /** each returns one figure: operations per second, or a latency */
  readonly baseline: () => Promise<number>;
  readonly candidate: () => Promise<number>;
  readonly baselineLabel: string;
  readonly candidateLabel: string;
  /** printed after each figure; default ops/s */
  readonly unit?: string;
}): Promise<{ name: string; ratio: number; baseline: number; candidate: number; ratios: number[] }> {
  const ratios: number[] = [];
  const baselines: number[] = [];
  const candidates: number[] = [];
  for (let round = 0; round < input.rounds; round++) {
    const b = await input.baseline();
    const c = await input.candidate();
    baselines.push(b);
    candidates.push(c);
    ratios.push(c / b);
  }
  const result = {
    name: input.name,
    ratio: median(ratios),
    baseline: median(baselines),
    candidate: median(candidates),
    ratios,
  };
  const unit = input.unit ?? 'ops/s';
  const figure = (value: number) => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));
  process.stdout.write(
    `${input.name}: ${input.candidateLabel} / ${input.baselineLabel} = ${result.ratio.toFixed(2)}x ` +
      `(median of ${input.rounds}: ${ratios.map((r) => r.toFixed(2)).join(' ')}; ` +
      `${figure(result.candidate)} vs ${figure(result.baseline)} ${unit})\n`,
  );
  return result;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
