/**
 * `npx tsx bench/profileSummary.ts FILE.cpuprofile [N]`: the N functions with the most self
 * time and the N with the most inclusive time in a V8 CPU profile (`node --cpu-prof`), as
 * shares of the samples — enough to see where a request's time goes without a browser.
 * `--skip=MS` leaves out the first MS milliseconds (the process starting up).
 */
import { readFileSync } from 'node:fs';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const args = process.argv.slice(2);
const skipMs = Number(args.find((arg) => arg.startsWith('--skip='))?.slice('--skip='.length) ?? 0);
const [file, top = '25'] = args.filter((arg) => !arg.startsWith('--'));
if (!file) {
  process.stderr.write('usage: profileSummary FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node: Node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^.*\/node_modules\//, '~/').replace(/^.*\/(src|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let elapsed = 0;
profile.samples.forEach((id, index) => {
  const dt = profile.timeDeltas[index] ?? 0;
  elapsed += dt;
  if (elapsed < skipMs * 1000) return;
  total += dt;
  const node = byId.get(id);
  if (!node) return;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
  }
});

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`${title}\n`);
  for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    process.stdout.write(`${((100 * time) / total).toFixed(1).padStart(6)}%  ${name}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled\n`);
print('self time:', self);
print('inclusive time:', inclusive);
