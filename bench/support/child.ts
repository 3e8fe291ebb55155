import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, freePort, trainServerCodeCache } from '../../scripts/build.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const baselineBuilds = new Map<string, Promise<string>>();

/** The baseline servers, each bundled from its source under bench/servers. */
const BASELINE_SOURCES = { bare: 'bareFastify.ts', peer: 'crudPeer.ts' } as const;

/**
 * A baseline server (the bare Fastify, the CRUD peer), bundled with the service's own esbuild
 * options (scripts/build.ts) and started by the same launcher, `node bin/compiled.js BUNDLE`,
 * which is what `bin/service.js` does for the service; with `codeCache`, also given a code
 * cache by a training start, as the service's build gives it one, for the stricter
 * comparison. Each variant is built when first asked for: the training start runs the server
 * without its environment, which only the bare Fastify can start with.
 */
export function baselineBundle(kind: keyof typeof BASELINE_SOURCES, codeCache: boolean): Promise<string> {
  const variant = codeCache ? 'cached' : 'plain';
  let built = baselineBuilds.get(`${kind}/${variant}`);
  if (built === undefined) {
    built = (async () => {
      // Inside the checkout, so that the externals a bundle requires (better-sqlite3 for the
      // peer) resolve from its node_modules, as the service's dist/ bundles do.
      const cache = join(ROOT, 'node_modules', '.cache');
      mkdirSync(cache, { recursive: true });
      const dir = mkdtempSync(join(cache, `two-factor-bench-${kind}-${variant}-`));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      await bundle({ [kind]: join(ROOT, 'bench', 'servers', BASELINE_SOURCES[kind]) }, dir);
      const file = join(dir, `${kind}.cjs`);
      if (codeCache) await trainServerCodeCache(file);
      return file;
    })();
    baselineBuilds.set(`${kind}/${variant}`, built);
  }
  return built;
}

/** USER_HZ of /proc/PID/stat: 100 on every Linux platform Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export type Child = {
  readonly url: string;
  readonly pid: number;
  /** from spawn to the first 200 of /health/ready */
  readonly readyMs: number;
  /** the process's peak resident set so far (VmHWM), in bytes */
  peakRssBytes(): number;
  /** CPU time (user + system) the process has used so far, in seconds */
  cpuSeconds(): number;
  stop(): Promise<void>;
};

export type ChildOptions = {
  /**
   * `service`: the real entry point, bin/service.js (compiled); `bare`: the baseline Fastify
   * server; `peer`: the CRUD peer of the sign-in step — both compiled alike
   */
  readonly kind: 'service' | 'bare' | 'peer';
  /** a baseline with a code cache of its own (what the service's build gives the service) */
  readonly bareCodeCache?: boolean;
  readonly env?: Record<string, string>;
  /** where stdout and stderr go (the service's log lines); default /dev/null */
  readonly logFile?: string;
  /** write a V8 CPU profile into this directory when the process exits */
  readonly cpuProfileDir?: string;
  readonly readyTimeoutMs?: number;
  /** the checkout whose code runs; default this one (another lets two versions be compared) */
  readonly root?: string;
};

/** Starts a server in its own process on 127.0.0.1 and waits until it answers ready. */
export async function startChild(options: ChildOptions): Promise<Child> {
  const port = await freePort();
  const entry =
    options.kind === 'service'
      ? ['bin/service.js']
      : ['bin/compiled.js', await baselineBundle(options.kind, options.bareCodeCache ?? false)];
  const out = openSync(options.logFile ?? '/dev/null', 'a');
  const began = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []), ...entry],
    {
      cwd: options.root ?? ROOT,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), ...options.env },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = began + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) {
      const log = options.logFile ? readFileSync(options.logFile, 'utf8').trim().split('\n').slice(-5) : [];
      throw new Error(
        `${options.kind} server exited before it was ready; its last lines:\n${log.join('\n')}`,
      );
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.kind} server not ready in time`);
    }
    const ready = await fetch(`${url}/health/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = performance.now() - began;
  const pid = child.pid ?? -1;
  return {
    url,
    pid,
    readyMs,
    peakRssBytes() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      return kib === undefined ? Number.NaN : Number(kib) * 1024;
    },
    cpuSeconds() {
      // Fields 14 and 15 of /proc/PID/stat, after the parenthesised command name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    },
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
