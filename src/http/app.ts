import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type onRequestHookHandler,
} from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { TwoFactorService } from '../application/twoFactorService.ts';
import type { ApiKey, Role } from '../config/apiKeys.ts';
import { USER_ID_RULE } from '../domain/twoFactor/userId.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createAttemptGuard } from './attemptGuard.ts';
import { authorize, createAuthenticator } from './authentication.ts';
import { writeClientErrorProblem } from './clientError.ts';
import { installErrorHandling, sendProblem } from './errorHandler.ts';
import { createFailureThrottle } from './failureThrottle.ts';
import { HttpProblem } from './problems.ts';
import { REQUEST_ID_PATTERN } from './requestContext.ts';
import { lazyChildLogger } from './requestLogger.ts';
import { adminRoutes } from './routes/admin.ts';
import { auditStateRoutes } from './routes/auditState.ts';
import { authenticatorRoutes } from './routes/authenticators.ts';
import { operationsRoutes } from './routes/operations.ts';
import type { TypedApp } from './routes/routeDeps.ts';
import { twoFactorRoutes } from './routes/twoFactor.ts';
import { responseSerializerCompiler } from './serialisation.ts';

export type Readiness = () => Promise<{ readonly ready: boolean; readonly detail: string }>;

export type AppDeps = {
  readonly service: TwoFactorService;
  readonly apiKeys: readonly ApiKey[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /** told of the id of a key that stored data needs and the configuration lacks */
  readonly onKeyUnavailable?: (keyId: string) => void;
  readonly clock?: () => number;
  /** failed attempts per end-user address a minute, across users; default 20 */
  readonly throttleFailuresPerMinute?: number;
  /** the longest a request may take to arrive; default 10 s */
  readonly requestTimeoutMs?: number;
  /** how long an idle keep-alive connection is kept; default 5 s */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Which peers' X-Forwarded-For/-Proto/-Host are believed (TRUST_PROXY), for `request.ip`,
   * `request.protocol` and `request.host`; default: none, the connection is the client.
   */
  readonly trustProxy?: (address: string, hop: number) => boolean;
  /** routes served from read models, registered by whoever owns them */
  readonly readModelRoutes?: (app: TypedApp, requireRole: (role: Role) => onRequestHookHandler) => void;
};

/** Bodies are small JSON documents; anything larger is refused before it is read. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export const DEFAULT_THROTTLE_FAILURES_PER_MINUTE = 20;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * swagger-ui's own files (the page's scripts, its logo), found through node_modules rather
 * than beside the plugin's code: the compiled service carries the plugin inside its bundle.
 */
function swaggerUiFiles() {
  const packageJson = createRequire(import.meta.url).resolve('@fastify/swagger-ui/package.json');
  const baseDir = join(dirname(packageJson), 'static');
  return { baseDir, logo: { type: 'image/svg+xml', content: readFileSync(join(baseDir, 'logo.svg')) } };
}

/** Builds the HTTP service around its dependencies; the process entry point is `main.ts`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const clock = deps.clock ?? Date.now;
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // One line per request is written in onResponse below, with what operators need.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger, bindings, options) => lazyChildLogger(logger as Logger, bindings, options),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: deps.trustProxy ?? false,
    // A client that sends a request slowly (its headers time out with it), or keeps an idle
    // connection open, gets it closed: otherwise a few hundred of them hold every socket the
    // process may open. No idle-socket timeout beyond that: a reader pausing an audit export
    // is not an attacker, and its stream must not be cut.
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    // Node reads these when the server is made (setting them afterwards, as Fastify does, does
    // not arm the check), and checks for late requests on this interval (30 s by default).
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs),
    },
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 256 },
    // Errors raised before routing (a bad URL, an overlong path parameter) get problem details too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      void sendProblem(
        reply,
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new HttpProblem('invalid-request', `params.userId: ${USER_ID_RULE}`)
          : new HttpProblem('invalid-request', 'path: not a valid URL'),
      );
    },
    clientErrorHandler: writeClientErrorProblem,
  });
  // Only JSON bodies are part of the contract; text is refused as 415 rather than misread.
  app.removeContentTypeParser('text/plain');
  // A POST with `Content-Type: application/json` and no body (unlock) means "no body", not bad JSON.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  const rolesOf = createAuthenticator(deps.apiKeys);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  installErrorHandling(app, clock, deps.onKeyUnavailable);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const given = request.headers['x-request-id'];
    if (given !== undefined && given !== request.id) {
      throw new HttpProblem(
        'invalid-request',
        'headers.x-request-id: must be 1–200 printable ASCII characters without spaces',
      );
    }
  });
  // For debugging an integration: what arrived, with credentials and codes redacted by the logger.
  // Only at trace level: an async hook that logs nothing still costs every request a turn.
  if (deps.logger.isLevelEnabled('trace')) {
    app.addHook('preHandler', async (request) => {
      request.log.trace(
        { headers: request.headers, params: request.params, body: request.body },
        'request received',
      );
    });
  }
  // The request line holds four fixed fields and the request id, none of them sensitive: it
  // skips the redaction, which would walk every redacted path for each line.
  const accessLog = deps.logger.child({}, { redact: { paths: [] } });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    accessLog.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Two-factor authentication service',
        description:
          'Event-sourced 2FA: authenticator enrollment, sign-in verification, recovery codes, administration and audit.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'API key of role web, admin or audit' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', ...swaggerUiFiles() });

  const requireRole =
    (role: Role): onRequestHookHandler =>
    async (request) =>
      authorize(rolesOf, request, role);

  const typed = app.withTypeProvider<ZodTypeProvider>();
  operationsRoutes(typed, deps);
  // No request limit per API key: the web tier is one caller acting for every user. What is
  // limited is failure, per end-user address (here), per user (the lockout) and expensive work.
  const attempts = createAttemptGuard(
    createFailureThrottle({
      failuresPerWindow: deps.throttleFailuresPerMinute ?? DEFAULT_THROTTLE_FAILURES_PER_MINUTE,
    }),
    clock,
  );
  twoFactorRoutes(typed, { service: deps.service, requireRole, attempts });
  authenticatorRoutes(typed, { service: deps.service, requireRole, attempts });
  adminRoutes(typed, { service: deps.service, requireRole });
  auditStateRoutes(typed, { service: deps.service, requireRole });
  deps.readModelRoutes?.(typed, requireRole);
  return app;
}
