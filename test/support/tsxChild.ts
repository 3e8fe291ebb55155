import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type TsxChild = {
  readonly process: ChildProcessWithoutNullStreams;
  /** stdout, line by line */
  readonly lines: AsyncIterable<string>;
  /** everything written to stderr so far, for failure messages */
  stderr(): string;
  /** resolves with how the process ended */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/**
 * Runs a TypeScript script in its own Node process, the way the service itself runs (through
 * tsx): crash tests kill it, race tests run several. `script` is an absolute path.
 */
export function spawnTsx(script: string, args: readonly string[]): TsxChild {
  // cwd at the repository root so that `--import tsx` resolves from its node_modules.
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    process: child,
    lines: createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY }),
    stderr: () => stderr,
    exited,
  };
}
