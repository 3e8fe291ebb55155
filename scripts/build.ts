/**
 * The production build: `npm run build`, and `prepare`, so that `npm ci` leaves a built tree.
 * esbuild bundles the service (`dist/service.cjs`) and the command line (`dist/cli.cjs`), the
 * web UI's front end built in; `bin/service.js` and `bin/twofactor.js` run them (see
 * bin/compiled.js). The processes that ship run plain JavaScript, compiled once, and load
 * neither tsx nor esbuild. Then a training start of the service saves the V8 code cache of
 * what a start compiles, and the command line's cache is saved from its own compilation.
 *
 * Why a bundle, and why CommonJS: measured side by side (README, Performance, target 8), one
 * bundled file started faster than tsc's one file per module resolved through node_modules,
 * a CommonJS bundle faster than the same code as an ES module (whose compilation V8 cannot
 * cache on Node 20), and the code cache faster again. What stays outside the bundle is what
 * cannot move: native addons, and the EventStoreDB client, loaded only when it is configured.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { webAssets } from '../src/ui/assets.ts';

const ROOT = join(import.meta.dirname, '..');

/** Where `bin/` finds the build; git and the linters ignore it. */
export const DIST = join(ROOT, 'dist');
/** Written last: its time is the build's, for the freshness check of bin/compiled.js. */
const BUILD_STAMP = '.build-stamp';

const EXTERNAL = [
  // Native addons: loaded from node_modules, where their binaries match the machine.
  'better-sqlite3',
  '@node-rs/argon2',
  // Large, gRPC, and required only when EVENTSTORE_CONNECTION_STRING is set.
  '@eventstore/db-client',
  '@grpc/grpc-js',
];

/**
 * Options shared by every bundle made here, the benchmark's baseline server included (so
 * that it starts "the same way" as the service): one CommonJS file for Node 20, dependencies
 * bundled but for the externals above. A dynamic `import()` of our own modules becomes a
 * lazy `require` of code inside the bundle, initialised only when first used.
 */
export const NODE_BUNDLE: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20.11',
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  external: EXTERNAL,
  // What `import.meta.url` means in an ES module, for the code that asks (createRequire).
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

/** The front end, built once here and compiled into the service in place of its in-memory build. */
async function prebuiltWebAssets(): Promise<Plugin> {
  const assets = await webAssets();
  return {
    name: 'prebuilt-web-assets',
    setup(on) {
      on.onLoad({ filter: /[\\/]src[\\/]ui[\\/]assets\.ts$/ }, () => ({
        loader: 'js',
        contents: `const assets = ${JSON.stringify(assets)};\nexport function webAssets() { return Promise.resolve(assets); }\n`,
      }));
    },
  };
}

/**
 * Bundles `entryPoints` into `outdir` with the shared options. A bundle runs as a script
 * (bin/compiled.js), where an `import()` left in the output would have no loader: refused.
 */
export async function bundle(
  entryPoints: Record<string, string>,
  outdir: string,
  plugins: Plugin[] = [],
): Promise<void> {
  const result = await build({ ...NODE_BUNDLE, entryPoints, outdir, plugins });
  for (const [output, { imports }] of Object.entries(result.metafile?.outputs ?? {})) {
    const dynamic = imports.filter((used) => used.kind === 'dynamic-import');
    if (dynamic.length > 0) {
      throw new Error(`${output} imports ${dynamic.map((used) => used.path).join(', ')} dynamically`);
    }
  }
}

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

const RUNNER = join(ROOT, 'bin', 'compiled.js');

/**
 * The training start of a server bundle: started on a port of its own with a throw-away
 * DATA_DIR, polled until `/health/ready` answers 200, and stopped; on its way out it writes
 * the code cache of everything compiled so far (bin/compiled.js).
 */
export async function trainServerCodeCache(file: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'two-factor-build-'));
  const port = await freePort();
  const child = spawn(process.execPath, [RUNNER, '--save-code-cache', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) break;
      if (child.exitCode !== null) throw new Error(`the training start of ${file} ended before it was ready`);
      if (Date.now() > deadline) throw new Error(`the training start of ${file} was not ready in 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGTERM');
    if ((await exited) !== 0) throw new Error(`the training start of ${file} did not stop cleanly`);
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The command line's cache: what `twofactor --help` compiles, which every command starts with. */
function trainCliCodeCache(file: string): void {
  execFileSync(process.execPath, [RUNNER, '--save-code-cache', file, '--help'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
}

/**
 * Builds the service and the command line into `outdir` (default `dist`), replacing what was
 * there once the new bundles are complete; then saves their code caches there (a cache keeps
 * the file name it was made under, which stack traces show) and, last, the build stamp.
 */
export async function buildDist(outdir: string = DIST): Promise<void> {
  const next = `${outdir}.next-${process.pid}`;
  rmSync(next, { recursive: true, force: true });
  try {
    await bundle(
      {
        service: join(ROOT, 'src/main.ts'),
        cli: join(ROOT, 'src/cli/main.ts'),
        // Threads start their module beside the bundle that starts them (siblingModule).
        sqliteWriterWorker: join(ROOT, 'src/eventStore/sqlite/sqliteWriterWorker.ts'),
        readModelsWorker: join(ROOT, 'src/projections/readModelsWorker.ts'),
      },
      next,
      [await prebuiltWebAssets()],
    );
    rmSync(outdir, { recursive: true, force: true });
    renameSync(next, outdir);
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
  await trainServerCodeCache(join(outdir, 'service.cjs'));
  trainCliCodeCache(join(outdir, 'cli.cjs'));
  writeFileSync(join(outdir, BUILD_STAMP), `${new Date().toISOString()}\n`);
}

if (process.argv[1] === import.meta.filename) {
  const began = performance.now();
  await buildDist();
  process.stderr.write(`built ${DIST} in ${Math.round(performance.now() - began)} ms\n`);
}
