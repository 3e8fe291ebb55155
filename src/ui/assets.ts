import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The front end, as served: one HTML shell, one script, one stylesheet. */
export type WebAssets = { readonly html: string; readonly js: string; readonly css: string };

const WEB_DIR = new URL('../../web/', import.meta.url);
const inWeb = (name: string) => fileURLToPath(new URL(name, WEB_DIR));

let built: Promise<WebAssets> | null = null;

/**
 * Builds the TypeScript front end (web/) when the service starts, in memory: `npm start` needs
 * no separate build step and never serves a stale bundle. esbuild takes a few tens of
 * milliseconds for it; the result is kept for the life of the process.
 */
export function webAssets(): Promise<WebAssets> {
  built ??= buildWebAssets().catch((error: unknown) => {
    built = null;
    throw error;
  });
  return built;
}

async function buildWebAssets(): Promise<WebAssets> {
  const result = await build({
    entryPoints: { app: inWeb('main.ts'), styles: inWeb('styles.css') },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = (suffix: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (file === undefined) throw new Error(`web UI build produced no ${suffix}`);
    return file.text;
  };
  return {
    html: await readFile(inWeb('index.html'), 'utf8'),
    js: output('app.js'),
    css: output('styles.css'),
  };
}
