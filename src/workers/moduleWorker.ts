import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread running `moduleUrl`. Run from TypeScript sources (`npm start`, the
 * tests and the command line run through tsx), the worker registers tsx's loader itself
 * before importing the module: on Node 20 a worker does not get the loader hooks of its
 * parent, even with the same `--import` in its execArgv. Compiled JavaScript starts as is.
 */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const loader = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(loader)})
    .then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The URL of a module beside `base` (an `import.meta.url`), with the extension `base` has: .ts from sources, .js once compiled. */
export function siblingModule(base: string, name: string): URL {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(base).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${extension}`, base);
}
