import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { READ_MODELS_FILE } from '../../src/projections/readModels.ts';
import { type ServerOptions, startServer } from '../../src/server.ts';
import { eventually } from '../support/eventually.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { KEYS, TEST_DIGEST_PARAMETERS } from '../support/testService.ts';

const dirs = tempDirs('two-factor-lifecycle');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  await dirs.removeAll();
});

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** A service over `dataDir` as the process starts it, with its log lines kept. */
async function start(dataDir: string, options: ServerOptions = {}) {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    API_KEYS: `web:${KEYS.web},admin:${KEYS.admin},audit:${KEYS.audit}`,
    SECRET_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}`,
    LOG_LEVEL: 'info',
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const server = await startServer(config, createLogger(config.logLevel, sink), {
    digestParameters: TEST_DIGEST_PARAMETERS,
    ...options,
  });
  cleanups.push(() => server.stop());
  await server.readModels.caughtUp();
  return { server, logs };
}

async function get(url: string, path: string, key: string | null = null) {
  const response = await fetch(`${url}${path}`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
  const text = await response.text();
  let json: { status?: string; detail?: string } | null = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, text, json };
}

describe('one service per DATA_DIR', () => {
  it('refuses a second instance on the same DATA_DIR at start, naming the one running', async () => {
    const dataDir = await dirs.make();
    const { server: first } = await start(dataDir);
    await expect(start(dataDir)).rejects.toThrow(
      new RegExp(`^the service \\(pid ${process.pid} on [^)]+\\) is running: stop it first`),
    );
    // The first one is untouched.
    expect((await get(first.url, '/health/ready')).status).toBe(200);
    await first.stop();
    const { server: next } = await start(dataDir);
    expect((await get(next.url, '/health/ready')).status).toBe(200);
  });
});

describe('readiness follows the projection runner', () => {
  it('turns 503 saying why once the runner has been failing past the tolerance, and ok once it recovers', async () => {
    const dataDir = await dirs.make();
    const { server } = await start(dataDir, { projectionFailureToleranceMs: 300 });
    expect((await get(server.url, '/health/ready')).status).toBe(200);

    // The audit projection cannot write (as a full disk or a bug would have it).
    const db = new Database(join(dataDir, READ_MODELS_FILE));
    db.exec(`CREATE TRIGGER poison BEFORE INSERT ON audit_events
             BEGIN SELECT RAISE(ABORT, 'poisoned-message-not-for-readiness'); END`);
    const enrolled = await fetch(`${server.url}/v1/users/ready-1/two-factor/enrollment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.web}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountName: 'ready-1@example.com' }),
    });
    expect(enrolled.status).toBe(201);
    let head = 0n;
    for await (const event of server.runtime.store.readAll()) head = event.position;

    const notReady = await eventually(async () => {
      const response = await get(server.url, '/health/ready');
      return response.status === 503 ? response : undefined;
    }, 'readiness to turn 503');
    expect(notReady.json).toEqual({
      status: 'unavailable',
      detail: expect.stringMatching(
        new RegExp(
          `^the read models have been failing for \\d+ s and are retrying: projection audit fails at position ${head} \\(SqliteError; see the service log\\)$`,
        ),
      ),
    });
    expect(notReady.text).not.toContain('poisoned');

    const metrics = (await get(server.url, '/metrics')).text;
    expect(Number(/^twofactor_projection_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    // The other projections went on.
    expect(metrics).toMatch(
      new RegExp(`^twofactor_projection_position\\{projection="users"\\} ${head}$`, 'm'),
    );
    expect(metrics).toMatch(/^twofactor_projection_position\{projection="audit"\} 0$/m);

    db.exec('DROP TRIGGER poison');
    db.close();
    const ready = await eventually(
      async () => {
        const response = await get(server.url, '/health/ready');
        return response.status === 200 ? response : undefined;
      },
      'readiness back to 200',
      20_000,
    );
    expect(ready.json?.status).toBe('ok');
    expect(await get(server.url, '/metrics')).toMatchObject({
      text: expect.stringMatching(
        new RegExp(`^twofactor_projection_position\\{projection="audit"\\} ${head}$`, 'm'),
      ),
    });
  });
});

describe('stop', () => {
  it('does not wait past the grace period for a client that stopped reading an audit export', async () => {
    const dataDir = await dirs.make();
    const { server, logs } = await start(dataDir, { shutdownGraceMs: 500 });
    // About 25 MB of audit records: far more than the socket buffers hold.
    for (let stream = 0; stream < 30; stream++) {
      await server.runtime.store.appendToStream(
        `filler-${stream}`,
        Array.from({ length: 100 }, () => ({
          id: randomUUID(),
          type: 'FillerForTest',
          data: { userId: `filler-${stream}` },
          metadata: { endUserAgent: 'x'.repeat(8_000) },
        })),
        { expectedRevision: 'no-stream' },
      );
    }
    let head = 0n;
    for await (const event of server.runtime.store.readAll()) head = event.position;
    await eventually(
      async () => (server.readModels.health().positions.every((p) => p.position === head) ? true : undefined),
      'the audit projection at the head',
    );

    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {});
    cleanups.push(async () => {
      socket.destroy();
    });
    await once(socket, 'connect');
    socket.write(
      `GET /v1/audit/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${KEYS.audit}\r\n\r\n`,
    );
    const [first] = (await once(socket, 'data')) as [Buffer];
    expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    // …and reads no further.
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.bytesRead).toBeLessThan(20_000_000);

    const started = Date.now();
    const outcome = await Promise.race([
      server.stop().then(() => 'stopped' as const),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref()),
    ]);
    expect(outcome).toBe('stopped');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(logs.join('')).toContain('closing their connections');
  });
});
