import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type FailedAttempt, UseCaseError } from '../application/errors.ts';
import { createAttemptGuard } from '../http/attemptGuard.ts';
import { toProblem } from '../http/errorHandler.ts';
import { createFailureThrottle } from '../http/failureThrottle.ts';
import { throttleKeyOfAddress } from '../http/throttleKey.ts';
import { webAssets } from './assets.ts';
import { checkUiOrigin } from './csrf.ts';
import { accountRoutes } from './routes/accountRoutes.ts';
import { adminRoutes } from './routes/adminRoutes.ts';
import { authenticatorRoutes } from './routes/authenticatorRoutes.ts';
import { sessionRoutes } from './routes/sessionRoutes.ts';
import { uiCookies } from './sessionCookie.ts';
import { createSessionStore } from './sessionStore.ts';
import { createSignInTokens } from './signInToken.ts';
import { secondsUntil, type WebUiDeps } from './uiContext.ts';

/** Everything the page loads comes from here; the QR code is a data: image. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Client-side routes: each serves the same shell, which picks the screen. */
const PAGES = ['/', '/admin'] as const;

/** Shown on every page when anyone may sign in as anyone: the demo sign-in in production. */
const DEMO_BANNER =
  '<p class="demo-banner" role="note"><strong>Demo sign-in.</strong> Anyone can sign in here as any user id: this installation is not for real accounts.</p>';

/**
 * What the page tells a person after a wrong code: how many tries are left before their
 * authenticator app (or their recovery codes) lock, or that this one locked them, and for how
 * long by the service's clock (null: until an administrator unlocks).
 */
export const failedAttemptView = (attempt: FailedAttempt, nowMs: number) => ({
  factor: attempt.factor,
  attemptsLeft: attempt.failuresBeforeLock,
  lockIsPermanent: attempt.lockIsPermanent,
  lockedForSeconds: secondsUntil(attempt.lockedUntil, nowMs),
});

/**
 * The reference web UI at `/`: the page, and under /ui/api a thin same-origin layer that keeps
 * a session in an HttpOnly cookie and calls the same application service as the API. The
 * browser never holds an API key. It answers on its one origin only (PUBLIC_URL).
 */
export async function registerWebUi(
  app: FastifyInstance,
  deps: Omit<WebUiDeps, 'sessions' | 'attempts' | 'cookies' | 'signInTokens'> & {
    readonly sessions?: WebUiDeps['sessions'];
    /** failed attempts per browser address a minute, across users (THROTTLE_FAILURES_PER_MINUTE) */
    readonly throttleFailuresPerMinute: number;
    /** whether the UI's origin is https: its cookies are then `__Host-` and Secure */
    readonly secure: boolean;
  },
): Promise<void> {
  const assets = await webAssets();
  const banner = deps.firstStep.kind === 'demo' && deps.firstStep.banner;
  const html = banner ? assets.html.replace('<body>', `<body>\n    ${DEMO_BANNER}`) : assets.html;
  const full: WebUiDeps = {
    ...deps,
    sessions: deps.sessions ?? createSessionStore(),
    cookies: uiCookies(deps.secure),
    signInTokens: createSignInTokens(),
    // The failures of a browser count against its own address: the connection's, or the one
    // the proxies named in TRUST_PROXY report (X-Forwarded-For), never a header it chose.
    attempts: createAttemptGuard(
      createFailureThrottle({ failuresPerWindow: deps.throttleFailuresPerMinute }),
      deps.clock,
      (request) => throttleKeyOfAddress(request.ip),
    ),
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request) => checkUiOrigin(request, full.origins()));
    // A wrong code's problem also says what it did to the lockout; everything else is answered
    // by the service's own error handler, which this one hands on to.
    scope.setErrorHandler(async (error, _request, reply) => {
      if (!(error instanceof UseCaseError) || error.failedAttempt === null) throw error;
      const problem = toProblem(error, full.clock());
      return reply
        .status(problem.status)
        .type('application/problem+json')
        .send({
          ...problem.toDocument(),
          failedAttempt: failedAttemptView(error.failedAttempt, full.clock()),
        });
    });
    scope.addHook('onSend', async (request, reply) => {
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-frame-options', 'DENY');
      if (request.url.startsWith('/ui/api/')) {
        reply.header('cache-control', 'no-store');
      } else {
        reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
        reply.header('cache-control', 'no-cache');
      }
    });
    for (const page of PAGES) {
      scope.get(page, { schema: { hide: true } }, async (_request, reply) =>
        reply.type('text/html; charset=utf-8').send(html),
      );
    }
    scope.get('/ui/app.js', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').send(assets.js),
    );
    scope.get('/ui/app.css', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').send(assets.css),
    );
    const typed = scope.withTypeProvider<ZodTypeProvider>();
    sessionRoutes(typed, full);
    accountRoutes(typed, full);
    authenticatorRoutes(typed, full);
    adminRoutes(typed, full);
  });
}
