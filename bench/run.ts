/**
 * `npm run bench [-- --quick] [-- --only=2,3] [-- --profile=DIR]`: measures the nine
 * performance targets, each candidate beside its baseline (alternating rounds, median
 * ratio; HTTP servers each in their own process on 127.0.0.1, loaded by autocannon). Prints
 * a table, then one JSON line: `[{ name, value, baseline, ratio, target, ok }, …]`, one per
 * target. Absolute figures depend on the machine and its neighbours; compare ratios.
 * `--profile=DIR` writes a CPU profile of the HTTP service process (see profileSummary.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../bin/compiled.js';
import { httpTargets } from './http.bench.ts';
import { projectionLagBench } from './projectionLag.bench.ts';
import { projectionTargets } from './projections.bench.ts';
import { appendTarget, historyTarget, recoveryCodeTarget, storageTarget } from './store.bench.ts';
import { jsonLine, type TargetResult, table } from './support/result.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map(Number);
const profileDir = args.find((arg) => arg.startsWith('--profile='))?.slice('--profile='.length);
const wanted = (...targets: number[]) => only === undefined || targets.some((t) => only.includes(t));

// The service runs compiled (bin/service.js): bring the build up to date before anything is timed.
ensureBuilt();
const workDir = mkdtempSync(join(tmpdir(), 'two-factor-bench-'));
const began = performance.now();
process.stdout.write(
  `two-factor bench${quick ? ' --quick' : ''}: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB; work directory ${workDir}\n`,
);

const results: TargetResult[] = [];
/** Runs one part of the bench and says how long it took, so a slow part is easy to spot. */
const part = async (label: string, run: () => Promise<TargetResult | TargetResult[]>) => {
  const started = performance.now();
  const got = await run();
  results.push(...(Array.isArray(got) ? got : [got]));
  process.stdout.write(`  (${label}: ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
};
try {
  const options = { quick, workDir };
  if (wanted(1, 2, 3, 8)) {
    await part('HTTP', () => httpTargets({ ...options, ...(profileDir ? { profileDir } : {}) }));
  }
  if (wanted(4)) await part('recovery code', () => recoveryCodeTarget(options));
  if (wanted(5)) await part('history', () => historyTarget(options));
  if (wanted(6)) await part('appends', () => appendTarget(options));
  if (wanted(7, 8)) await part('projections and start-up', () => projectionTargets(options));
  if (wanted(9)) await part('storage', () => storageTarget(options));
  if (!quick && only === undefined) await projectionLagBench();
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const order = (r: TargetResult) => Number.parseInt(r.name, 10);
const sorted = [...results].sort((a, b) => order(a) - order(b));
process.stdout.write(
  `\n${table(sorted)}\n\nfinished in ${((performance.now() - began) / 1000).toFixed(0)} s\n`,
);
process.stdout.write(`${jsonLine(mergeTargetEight(sorted))}\n`);

/** Target 8 is measured twice (memory under load, start-up); the JSON line has one entry per target. */
function mergeTargetEight(list: readonly TargetResult[]): TargetResult[] {
  const memory = list.find((r) => r.name.startsWith('8. memory'));
  const startup = list.find((r) => r.name.startsWith('8. start-up'));
  if (!memory || !startup) return [...list];
  const merged: TargetResult = {
    ...memory,
    name: '8. memory (peak RSS, MB) and start-up',
    target: `peak RSS < 200 MB and ready <= 2x bare Fastify (ready in ${Math.round(startup.value)} ms, ${startup.ratio.toFixed(2)}x)`,
    ok: memory.ok && startup.ok,
  };
  return [...list.filter((r) => r !== memory && r !== startup), merged].sort((a, b) => order(a) - order(b));
}
