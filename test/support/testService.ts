import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Secret, TOTP } from 'otpauth';
import { type Config, loadConfig } from '../../src/config/config.ts';
import type { DigestParameters } from '../../src/domain/twoFactor/recoveryCodes.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { type Server, type ServerOptions, startServer } from '../../src/server.ts';
import { responseJson } from './responseJson.ts';
import { tempDirs } from './tempDirs.ts';

/** Real argon2id, with a small cost so that a suite hashing hundreds of codes stays quick. */
export const TEST_DIGEST_PARAMETERS: DigestParameters = {
  algorithm: 'argon2id',
  memoryCost: 1024,
  timeCost: 1,
  parallelism: 1,
  outputLength: 32,
};

export const KEYS = {
  web: `web-${randomBytes(16).toString('hex')}`,
  admin: `admin-${randomBytes(16).toString('hex')}`,
  audit: `audit-${randomBytes(16).toString('hex')}`,
} as const;

/**
 * A clock the test moves; starts at a fixed step boundary so codes are predictable. It is the
 * server's clock in `startTestService` and `buildInjectService` — the domain's decisions, the
 * read models' queries, the web UI's sessions — so a test (a browser journey too) goes past a
 * lock, an enrollment's expiry or an enrollment deadline with `advance`, never by sleeping.
 * For tests only: refused when NODE_ENV=production, where time is the wall clock's alone.
 */
export function testClock(startMs = Date.UTC(2026, 0, 15, 9, 0, 0)) {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('a test clock is for tests only: refused with NODE_ENV=production');
  }
  let now = startMs;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

export type TestService = Awaited<ReturnType<typeof startTestService>>;

export type TestServiceOptions = {
  env?: Record<string, string>;
  logLevel?: string;
  server?: Pick<ServerOptions, 'argon2Limits' | 'digestParameters' | 'checkKeysAtStart'>;
  /** an existing DATA_DIR (kept by the caller) instead of a fresh one */
  dataDir?: string;
};

/** The configuration of a test service over `dataDir`: explicit keys, no throttle to speak of. */
export function testConfig(dataDir: string, options: Pick<TestServiceOptions, 'env' | 'logLevel'>): Config {
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    API_KEYS: `web:${KEYS.web},admin:${KEYS.admin},audit:${KEYS.audit}`,
    SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: options.logLevel ?? 'info',
    // Suites share one API key and send many wrong codes on purpose; the throttle has its own tests.
    THROTTLE_FAILURES_PER_MINUTE: '1000000',
    ...options.env,
  });
}

/** A logger for `config` that keeps every line it writes, for leak checks. */
export function capturingLogger(config: Config) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger(config.logLevel, sink), lines };
}

export type CallInit = {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  rawBody?: string;
};

/** What a response is read as: its status and headers, its text, and that text as JSON when it is. */
export type CallResult = {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read bodies by shape in their assertions
  readonly json: any;
  readonly text: string;
};

type Send = (
  method: string,
  path: string,
  request: { headers: Record<string, string>; body: string | undefined },
) => Promise<{ status: number; headers: Headers; text: string }>;

/**
 * `call(method, path, init)` over `send`: the web key unless `init.key` says otherwise (null:
 * none), `init.body` as JSON or `init.rawBody` as it is. One request shape for every transport.
 */
export function caller(send: Send) {
  return async function call(method: string, path: string, init: CallInit = {}): Promise<CallResult> {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? KEYS.web : init.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (init.rawBody !== undefined) body = init.rawBody;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await send(method, path, { headers, body });
    return { ...response, json: responseJson(response.text) };
  };
}

/**
 * The whole service over a real socket on 127.0.0.1, with the embedded store in a
 * temporary directory, a test clock, and every log line captured for leak checks.
 */
export async function startTestService(options: TestServiceOptions = {}) {
  const dirs = tempDirs('two-factor-e2e');
  const dataDir = options.dataDir ?? (await dirs.make());
  const config = testConfig(dataDir, options);
  const { logger, lines: logs } = capturingLogger(config);
  const clock = testClock();
  const server: Server = await startServer(config, logger, {
    clock: clock.now,
    digestParameters: TEST_DIGEST_PARAMETERS,
    ...options.server,
  });
  // The read models catch up in the background; an empty log takes no time, but tests that
  // check readiness at once should not depend on how the event loop happens to schedule it.
  await server.readModels.caughtUp();

  const call = caller(async (method, path, { headers, body }) => {
    const response = await fetch(`${server.url}${path}`, { method, headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  });

  return {
    server,
    url: server.url,
    dataDir,
    clock,
    logs,
    call,
    async stop() {
      await server.stop();
      await dirs.removeAll();
    },
  };
}

/** What an authenticator app shows for `secret` at the given time. */
export function codeAt(secretBase32: string, timestampMs: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secretBase32), timestamp: timestampMs });
}
