/** Why the build must be made again, or null when it is up to date (or there are no sources). */
export function staleBuild(): string | null;
/** Builds (`npm run build`) when the build is missing or stale, saying so on stderr. */
export function ensureBuilt(): void;
/** Runs `file` (a CommonJS bundle) with its code cache; see compiled.js. */
export function runBundle(file: string, options?: { saveCodeCacheAtExit?: boolean }): void;
/** Runs `dist/<name>.cjs`, rebuilding it first when stale. */
export function runCompiled(name: string): void;
export const DIST: string;
