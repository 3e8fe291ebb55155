import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/build.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { uiClient } from '../ui/uiClient.ts';

/** The compiled service, as `npm start` and the container run it (built by the global setup). */
const SERVICE = join(import.meta.dirname, '../../bin/service.js');
const dirs = tempDirs('two-factor-process');
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await dirs.removeAll();
});

/** The real entry point as `npm start` runs it, in a child process with its own environment. */
function startProcess(env: Record<string, string>, nodeOptions: readonly string[] = []) {
  const dataDir = dirs.makeSync();
  const child = spawn(process.execPath, [...nodeOptions, SERVICE], {
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

  it('refuses to serve the web UI in production without a real first step, naming both ways out', async () => {
    const started = startProcess({
      NODE_ENV: 'production',
      API_KEYS: `web:${randomBytes(16).toString('hex')}`,
      SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      UI_ENABLED: 'true',
      PUBLIC_URL: 'https://2fa.example.test',
    });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain('UI_ENABLED=true in production needs a real first step');
    expect(started.output()).toContain('UI_TRUSTED_USER_HEADER');
    expect(started.output()).toContain('UI_DEMO_SIGN_IN=true');
  });

  it('with the demo sign-in asked for in production: warns at start, bannered pages, and no admin by default', async () => {
    const port = await freePort();
    const apiKey = randomBytes(16).toString('hex');
    const started = startProcess({
      NODE_ENV: 'production',
      PORT: String(port),
      API_KEYS: `web:${apiKey}`,
      SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      UI_ENABLED: 'true',
      UI_DEMO_SIGN_IN: 'true',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    const url = await started.listening;
    expect(started.output()).toMatch(/"level":40,[^\n]*UI_DEMO_SIGN_IN=true: the web UI takes any user id/);
    for (const path of ['/', '/admin'])
      expect(await (await fetch(`${url}${path}`)).text()).toContain('demo-banner');
    // The reproduction: sign in as `admin` by typing it, then reach for the admin page.
    const browser = uiClient(url);
    expect((await browser.signIn('admin')).json).toMatchObject({ stage: 'signed-in', admin: false });
    expect((await browser.call('GET', '/ui/api/admin/policy')).status).toBe(403);
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

const RECORD_LOADED_MODULES = join(import.meta.dirname, '../support/fixtures/recordLoadedModules.cjs');

/** The CommonJS modules a process loaded, as its preloaded recorder wrote them when it exited. */
function loadedModules(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

const ESDB_CLIENT = /[\\/]node_modules[\\/](@eventstore[\\/]db-client|@grpc[\\/]grpc-js)[\\/]/;
const TYPESCRIPT_RUNTIME = /[\\/]node_modules[\\/](tsx|esbuild|typescript)[\\/]/;

describe('what the compiled service loads', () => {
  it('with the embedded store: never the EventStoreDB client nor its gRPC stack, and no TypeScript runtime', async () => {
    const record = join(dirs.makeSync(), 'loaded.txt');
    const started = startProcess({ LOADED_MODULES_FILE: record }, ['--require', RECORD_LOADED_MODULES]);
    const url = await started.listening;
    await expect
      .poll(() => fetch(`${url}/health/ready`).then((r) => r.status), { timeout: 30_000 })
      .toBe(200);
    // A request that uses the store, so nothing is left unloaded merely for being lazy.
    expect((await fetch(`${url}/v1/users/u1/two-factor`)).status).toBe(401);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const loaded = loadedModules(record);
    // The recorder sees what the bundle leaves outside itself: the native SQLite binding is one.
    expect(loaded.some((file) => file.includes('better-sqlite3'))).toBe(true);
    expect(loaded.filter((file) => ESDB_CLIENT.test(file))).toEqual([]);
    expect(loaded.filter((file) => TYPESCRIPT_RUNTIME.test(file))).toEqual([]);
  });

  it('with EVENTSTORE_CONNECTION_STRING set: the client, and only then', async () => {
    const record = join(dirs.makeSync(), 'loaded.txt');
    const started = startProcess(
      {
        LOADED_MODULES_FILE: record,
        // Nothing listens there: the start fails once the store does not answer, after loading it.
        EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false&defaultDeadline=500',
      },
      ['--require', RECORD_LOADED_MODULES],
    );
    expect(await started.exited).toBe(1);
    expect(loadedModules(record).some((file) => ESDB_CLIENT.test(file))).toBe(true);
  });
});

describe('the compiled service', () => {
  it('serves the web UI and the API documentation with their files, bundled or not', async () => {
    const started = startProcess({});
    const url = await started.listening;
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(await (await fetch(`${url}/ui/app.js`)).text()).toContain('/ui/api/session');
    // swagger-ui serves its files from its package directory, which the bundle must find.
    for (const path of ['/docs/static/swagger-ui-bundle.js', '/docs/static/logo.svg']) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(200);
    }
    const document = (await (await fetch(`${url}/docs/json`)).json()) as { paths: object };
    expect(document.paths).toHaveProperty(['/v1/users/{userId}/two-factor']);
  });
});

describe('the compiled command line', () => {
  it('runs without a TypeScript runtime', async () => {
    const record = join(dirs.makeSync(), 'loaded.txt');
    const child = spawn(
      process.execPath,
      ['--require', RECORD_LOADED_MODULES, join(import.meta.dirname, '../../bin/twofactor.js'), '--version'],
      {
        env: { PATH: process.env.PATH ?? '', LOADED_MODULES_FILE: record },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(output.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(loadedModules(record).filter((file) => TYPESCRIPT_RUNTIME.test(file))).toEqual([]);
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
