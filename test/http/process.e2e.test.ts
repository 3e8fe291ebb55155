import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDirs } from '../support/tempDirs.ts';

const MAIN = join(import.meta.dirname, '../../src/main.ts');
const dirs = tempDirs('two-factor-process');
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await dirs.removeAll();
});

/** The real entry point as `npm start` runs it, in a child process with its own environment. */
function startProcess(env: Record<string, string>) {
  const dataDir = dirs.makeSync();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 30 s:\n${output}`)), 30_000);
    child.stdout?.on('data', () => {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
  });
  // Tests that expect the process to stop early never wait for it to listen.
  listening.catch(() => undefined);
  return { dataDir, child, exited, listening, output: () => output };
}

describe('the process', () => {
  it('refuses to start in production without API_KEYS, saying which variable is missing', async () => {
    const started = startProcess({ NODE_ENV: 'production' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('API_KEYS is required when NODE_ENV=production');
  });

  it('stops at a bad value with a message naming it', async () => {
    const started = startProcess({ PORT: 'eighty' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('PORT');
  });

  it('in development generates keys once in 0600 files and logs their paths, never the keys', async () => {
    const started = startProcess({});
    const url = await started.listening;
    const keysFile = join(started.dataDir, 'api-keys');
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(started.dataDir, 'secret-encryption-keys')).mode & 0o777).toBe(0o600);
    const keys = readFileSync(keysFile, 'utf8').trim();
    const web = /web:([^,]+)/.exec(keys)?.[1] ?? '';
    expect(started.output()).toContain(keysFile);
    for (const entry of keys.split(',')) expect(started.output()).not.toContain(entry.split(':')[1]);
    const status = await fetch(`${url}/v1/users/u1/two-factor`, {
      headers: { authorization: `Bearer ${web}` },
    });
    expect(status.status).toBe(200);
  });

  it('on SIGTERM finishes the requests in flight, refuses new ones, then exits 0', async () => {
    const apiKey = randomBytes(16).toString('hex');
    const started = startProcess({
      API_KEYS: `web:${apiKey}`,
      SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    const url = new URL(await started.listening);
    // Requests whose headers have arrived but whose bodies have not: in flight when the signal comes.
    const inFlight = Array.from({ length: 5 }, (_, i) => halfSentEnrollment(url, apiKey, `shutdown-${i}`));
    await Promise.all(inFlight.map((r) => r.headersSent));
    await pause(200);
    started.child.kill('SIGTERM');
    await pause(200);
    const late = await fetch(`${url.origin}/health/live`).then(
      (response) => response.status,
      () => 'refused',
    );
    expect([503, 'refused']).toContain(late);
    for (const request of inFlight) request.finish();
    const statuses = await Promise.all(inFlight.map((r) => r.status));
    expect(statuses).toEqual([201, 201, 201, 201, 201]);
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain('"msg":"stopped"');
  });
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An enrollment request sent in two halves, so the test decides when it completes. */
function halfSentEnrollment(url: URL, apiKey: string, userId: string) {
  const body = JSON.stringify({ accountName: `${userId}@example.com` });
  const half = Math.floor(body.length / 2);
  const request = httpRequest({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: `/v1/users/${userId}/two-factor/enrollment`,
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    },
  });
  const status = new Promise<number>((resolve, reject) => {
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
  });
  const headersSent = new Promise<void>((resolve) => request.write(body.slice(0, half), () => resolve()));
  return { headersSent, status, finish: () => request.end(body.slice(half)) };
}
