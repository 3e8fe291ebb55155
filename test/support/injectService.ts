import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { assembleServer } from '../../src/server.ts';
import { tempDirs } from './tempDirs.ts';
import {
  caller,
  capturingLogger,
  TEST_DIGEST_PARAMETERS,
  type TestServiceOptions,
  testClock,
  testConfig,
} from './testService.ts';

export type InjectService = Awaited<ReturnType<typeof buildInjectService>>;

/**
 * The app `startTestService` serves — the same configuration, runtime, routes, read models and
 * web UI over a fresh DATA_DIR, with a test clock and every log line kept — built but not
 * listening: `call` goes through `app.inject`, with no socket. For what the HTTP layer decides
 * on its own (schemas, error mapping, authentication and authorisation). Whatever needs a real
 * connection (streaming, timeouts, shutdown, cookies, readiness) stays with `startTestService`.
 *
 * The wiring is `startServer`'s own (`assembleServer`), started without the start-up key check
 * or a listener.
 */
export async function buildInjectService(
  options: Pick<TestServiceOptions, 'env' | 'logLevel' | 'server'> = {},
) {
  const dirs = tempDirs('two-factor-inject');
  const dataDir = await dirs.make();
  const config = testConfig(dataDir, options);
  const { logger, lines: logs } = capturingLogger(config);
  const clock = testClock();
  const { app, runtime, readModels, close } = await assembleServer(config, logger, {
    clock: clock.now,
    digestParameters: TEST_DIGEST_PARAMETERS,
    ...options.server,
  });
  await readModels.start();
  await readModels.caughtUp();
  await app.ready();

  const call = caller(async (method, path, request) => {
    const response = await app.inject({
      method: method as InjectOptions['method'],
      url: path,
      ...asFetchSends(method, request),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one !== undefined) headers.append(name, String(one));
      }
    }
    return { status: response.statusCode, headers, text: response.body };
  });

  return {
    /** shaped as startTestService's server, so that a test reads the same either way */
    server: { app, runtime, readModels },
    dataDir,
    clock,
    logs,
    call,
    async stop() {
      await app.close();
      await close();
      await dirs.removeAll();
    },
  };
}

/**
 * The in-process service of the calling suite: built in its beforeAll, stopped in its afterAll.
 * Read it in tests and hooks, once it is built.
 */
export function injectServiceForSuite(options: Parameters<typeof buildInjectService>[0] = {}): InjectService {
  let built: InjectService | undefined;
  beforeAll(async () => {
    built = await buildInjectService(options);
  });
  afterAll(async () => {
    await built?.stop();
  });
  const service = () => {
    if (built === undefined) throw new Error('the service is built in beforeAll: use it in a test or hook');
    return built;
  };
  return {
    get server() {
      return service().server;
    },
    get dataDir() {
      return service().dataDir;
    },
    get clock() {
      return service().clock;
    },
    get logs() {
      return service().logs;
    },
    call: (...args) => service().call(...args),
    stop: () => service().stop(),
  };
}

/**
 * A request as `fetch` puts it on the wire, so that a test moved here from a socket sends what it
 * sent before: header values trimmed of spaces and tabs, a string body without a content type as
 * text/plain, and a content length on every body, an empty POST or PUT included. (The URL is
 * parsed the same way already: light-my-request uses the WHATWG URL parser, as fetch does.)
 */
function asFetchSends(
  method: string,
  request: { headers: Record<string, string>; body: string | undefined },
): { headers: Record<string, string>; payload?: string } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = value.replace(/^[\t ]+|[\t ]+$/g, '');
  }
  const { body } = request;
  if (body !== undefined) {
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
    headers['content-length'] = String(Buffer.byteLength(body));
    return { headers, payload: body };
  }
  if (method === 'POST' || method === 'PUT') headers['content-length'] = '0';
  return { headers };
}
