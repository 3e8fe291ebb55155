import { readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread running `moduleUrl`. Run from TypeScript sources (`npm start`, the
 * tests and the command line run through tsx), the worker registers tsx's loader itself
 * before importing the module: on Node 20 a worker does not get the loader hooks of its
 * parent, even with the same `--import` in its execArgv. Compiled JavaScript starts as is.
 */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const loader = tsxEsmApi();
  const boot = `import(${JSON.stringify(loader)})
    .then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Where tsx's ES-module API is, by its package's own export map: found without
 * `import.meta.resolve`, which the compiled bundle (CommonJS, where `import.meta` has only
 * its `url`) does not have. Only runs from sources, where tsx is installed.
 */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as { exports: Record<string, { import: { default: string } }> };
  const api = exports['./esm/api'];
  if (api === undefined) throw new Error('tsx has no ./esm/api export: cannot start a worker from sources');
  return pathToFileURL(join(dirname(manifest), api.import.default)).href;
}

/** The URL of a module beside `base` (an `import.meta.url`), with the extension `base` has: .ts from sources, .js once compiled. */
export function siblingModule(base: string, name: string): URL {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(base).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${extension}`, base);
}

/**
 * Lowers the scheduling priority of the calling thread (Linux: its niceness), for background
 * work that should give way to the thread answering requests when the cores are busy. Where
 * the platform cannot name a thread, nothing changes.
 */
export function lowerThreadPriority(niceness: number): void {
  try {
    // `/proc/thread-self` is `<pid>/task/<tid>`: setpriority on a thread id sets that thread's.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // Not Linux, or not allowed: the thread keeps the process's priority.
  }
}
