import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { twofactorBin } from '../support/cliProcess.ts';

describe('a reader that stops early', () => {
  it('ends the command quietly, as `| head` does, without a stack trace', async () => {
    // Help is printed without a store, and is long enough to outlast a closed pipe.
    const child = spawn(process.execPath, [twofactorBin, 'admin', '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
