/** One line of the benchmark's table and one element of its final JSON line. */
export type TargetResult = {
  readonly name: string;
  /** the candidate's figure, in `unit` */
  readonly value: number;
  /** the same figure for the baseline it is compared with */
  readonly baseline: number;
  /** value / baseline: a median of per-round ratios where the target is measured side by side */
  readonly ratio: number;
  /** what is to be reached, in words */
  readonly target: string;
  readonly ok: boolean;
  /** for the table only */
  readonly unit: string;
  readonly note?: string;
};

const round = (value: number) =>
  Number.isFinite(value) ? Number(value.toPrecision(value >= 100 ? 6 : 3)) : null;

/** The final JSON line: exactly the fields the contract of `npm run bench` names. */
export const jsonLine = (results: readonly TargetResult[]): string =>
  JSON.stringify(
    results.map((r) => ({
      name: r.name,
      value: round(r.value),
      baseline: round(r.baseline),
      ratio: round(r.ratio),
      target: r.target,
      ok: r.ok,
    })),
  );

export function table(results: readonly TargetResult[]): string {
  const rows = results.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.baseline)} ${r.unit}`,
    `${fmt(r.ratio)}x`,
    r.target,
    r.ok ? 'ok' : 'MISSED',
  ]);
  const header = ['target', 'value', 'baseline', 'ratio', 'to reach', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const notes = results.filter((r) => r.note).map((r) => `  ${r.name.split(' ')[0]} ${r.note}`);
  return [line(header), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
