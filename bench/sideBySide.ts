/**
 * Runs a candidate and its baseline alternately, several rounds, and reports the median
 * ratio of their rates. Alternating cancels out most of the drift of a shared, noisy machine;
 * the ratio, not the absolute rate, is the result.
 */
export async function sideBySide(input: {
  readonly name: string;
  readonly rounds: number;
  /** each returns operations per second */
  readonly baseline: () => Promise<number>;
  readonly candidate: () => Promise<number>;
  readonly baselineLabel: string;
  readonly candidateLabel: string;
}): Promise<{ name: string; ratio: number; baseline: number; candidate: number }> {
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
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const result = {
    name: input.name,
    ratio: median(ratios),
    baseline: median(baselines),
    candidate: median(candidates),
  };
  process.stdout.write(
    `${input.name}: ${input.candidateLabel} / ${input.baselineLabel} = ${result.ratio.toFixed(2)}x ` +
      `(median of ${input.rounds}; ${result.candidate.toFixed(0)} vs ${result.baseline.toFixed(0)} ops/s)\n`,
  );
  return result;
}
