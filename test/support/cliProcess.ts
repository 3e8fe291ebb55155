import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The command-line entry point, bin/twofactor.js, as an absolute path. */
export const twofactorBin = fileURLToPath(new URL('../../bin/twofactor.js', import.meta.url));

/** The service's settings: a test never inherits them from the shell that runs it. */
const CONFIG_VARIABLES = [
  'NODE_ENV',
  'DATA_DIR',
  'EVENTSTORE_CONNECTION_STRING',
  'API_KEYS',
  'SECRET_ENCRYPTION_KEYS',
  'TOTP_ISSUER',
  'LOG_LEVEL',
  'HOST',
  'PORT',
];

export type CliRun = {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
};

/** Bounded: a hung command is killed and fails its test instead of hanging the suite. */
const TIMEOUT_MS = 30_000;

/** `node bin/twofactor.js …` in a child process, as an administrator would run it. */
export function runTwofactor(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLES.includes(name)),
  );
  const child = spawn(process.execPath, [twofactorBin, ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: TIMEOUT_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Lines of NDJSON output, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: tests read records by shape in their assertions
export const ndjson = (text: string): any[] =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
