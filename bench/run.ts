/**
 * `npm run bench`: each benchmark runs a candidate against its baseline side by side and
 * prints the ratio. Absolute rates depend on the machine and its neighbours; compare ratios.
 */
import { aggregateLoadingBench } from './aggregateLoading.bench.ts';
import { groupCommitBench } from './groupCommit.bench.ts';
import { projectionLagBench } from './projectionLag.bench.ts';

await groupCommitBench();
await aggregateLoadingBench();
await projectionLagBench();
