/**
 * Runs a compiled bundle of `dist/` (made by `npm run build`, and by `npm ci` through
 * `prepare`): the service (`bin/service.js`) and the command line (`bin/twofactor.js`).
 *
 * Each bundle is one CommonJS file, compiled with the V8 code cache the build saved beside it
 * (`<bundle>.cache`, written at the end of a start made during the build): the functions a
 * start runs are then read back instead of parsed and compiled again, which was the largest
 * single part of a start. A cache that this Node.js does not accept (another version, other
 * V8 flags) is ignored and the bundle compiles as usual.
 *
 * From a checkout, a bundle older than its sources is rebuilt first, so a changed tree never
 * runs stale code; an installation without the sources (the container image) runs what it
 * was given. Plain JavaScript: it runs before anything is compiled.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const ROOT = join(import.meta.dirname, '..');
export const DIST = join(ROOT, 'dist');
/** Written last by the build: its time is the build's. */
const STAMP = join(DIST, '.build-stamp');
/** What the build reads: a change to any of these makes the build stale. */
const INPUT_DIRS = ['src', 'web'];
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/build.ts',
  'bin/compiled.js',
];

/** The newest modification time under `dir`, tests left out (they are not built). */
function newestUnder(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(path));
    else if (!entry.name.includes('.test.')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Why the build must be made again, or null when it is up to date (or there are no sources). */
export function staleBuild() {
  if (!existsSync(join(ROOT, 'scripts', 'build.ts'))) return null;
  if (!existsSync(STAMP)) return 'no build yet';
  const builtAt = statSync(STAMP).mtimeMs;
  const newest = Math.max(
    ...INPUT_DIRS.map((dir) => newestUnder(join(ROOT, dir))),
    ...INPUT_FILES.map((file) => statSync(join(ROOT, file)).mtimeMs),
  );
  return newest > builtAt ? 'sources changed since the last build' : null;
}

/** Builds (`npm run build`) when the build is missing or stale, saying so on stderr. */
export function ensureBuilt() {
  const why = staleBuild();
  if (why === null) return;
  process.stderr.write(`two-factor: ${why}: building…\n`);
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'build.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** The file's bytes, or undefined when it cannot be read (a missing cache only costs time). */
function readIfPresent(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Runs `file` (a CommonJS bundle) as Node would `require` it, compiled with its code cache.
 * With `saveCodeCacheAtExit`, the cache of everything compiled until the process exits is
 * written beside it: what the build does in its training start.
 */
export function runBundle(file, { saveCodeCacheAtExit = false } = {}) {
  const cacheFile = `${file}.cache`;
  // esbuild writes ASCII only (non-ASCII characters escaped), which latin1 reads fastest.
  const source = readFileSync(file, 'latin1');
  const cachedData = saveCodeCacheAtExit ? undefined : readIfPresent(cacheFile);
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(dirname(file));
  if (saveCodeCacheAtExit) {
    process.once('exit', () => {
      writeFileSync(cacheFile, script.createCachedData());
      // The service narrows its umask (DATA_DIR is private); the cache is not, it is code.
      chmodSync(cacheFile, 0o644);
    });
  }
  const compiled = script.runInThisContext();
  compiled.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

/** Runs `dist/<name>.cjs`, the compiled entry point `name`, rebuilding it first when stale. */
export function runCompiled(name) {
  ensureBuilt();
  runBundle(join(DIST, `${name}.cjs`));
}

// `node bin/compiled.js [--save-code-cache] BUNDLE [ARGS…]`: any bundle, as the build's
// training start and the benchmark's baseline server run theirs.
if (process.argv[1] === import.meta.filename) {
  const save = process.argv[2] === '--save-code-cache';
  const [file] = process.argv.splice(2, save ? 2 : 1).slice(save ? 1 : 0);
  if (file === undefined) {
    process.stderr.write('usage: node bin/compiled.js [--save-code-cache] BUNDLE.cjs [ARGS…]\n');
    process.exit(2);
  }
  runBundle(file, { saveCodeCacheAtExit: save });
}
