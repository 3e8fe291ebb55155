import { staleBuild } from '../../bin/compiled.js';
import { buildDist } from '../../scripts/build.ts';

/**
 * Vitest's global setup: the compiled build (`dist`) is brought up to date once, before any
 * test spawns `bin/service.js` or `bin/twofactor.js`, so that those tests run the code of
 * this tree and no two of them rebuild at the same moment.
 */
export default async function setup(): Promise<void> {
  if (staleBuild() !== null) await buildDist();
}
