import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TwoFactorService } from '../application/twoFactorService.ts';
import type { AttemptGuard } from '../http/attemptGuard.ts';
import { HttpProblem } from '../http/problems.ts';
import type { ListUsersQuery, UserPage } from '../projections/readModels.ts';
import { checkCsrf } from './csrf.ts';
import { sessionIdOf, setSessionCookie } from './sessionCookie.ts';
import type { Session, SessionStage, SessionStore } from './sessionStore.ts';

export type WebUiDeps = {
  /** the same application service the API's routes call */
  readonly service: TwoFactorService;
  /** the admin user list's read model */
  readonly listUsers: (query: ListUsersQuery) => UserPage;
  /** the service's clock, for "locked for N seconds" */
  readonly clock: () => number;
  /** user ids that may open the admin page */
  readonly admins: readonly string[];
  /** shown as the product's name (the TOTP issuer) */
  readonly productName: string;
  readonly sessions: SessionStore;
  /** where a code is tried: failures counted, and refused past the limit, per browser address */
  readonly attempts: AttemptGuard;
};

/** What the page may know of its session. */
export type SessionView = {
  readonly stage: SessionStage;
  readonly userId: string | null;
  readonly admin: boolean;
  readonly csrfToken: string;
  readonly productName: string;
};

export function sessionView(deps: WebUiDeps, session: Session): SessionView {
  return {
    stage: session.stage,
    userId: session.userId,
    admin: session.stage === 'signed-in' && session.userId !== null && deps.admins.includes(session.userId),
    csrfToken: session.csrfToken,
    productName: deps.productName,
  };
}

const sessionEnded = () =>
  new HttpProblem('unauthenticated', 'your session has ended or was never started: sign in again');

/** The session of a request that changes something: it must exist and pass the CSRF check. */
export function sessionForChange(deps: WebUiDeps, request: FastifyRequest): Session {
  const session = deps.sessions.get(sessionIdOf(request));
  if (session === null) throw sessionEnded();
  checkCsrf(request, session);
  return session;
}

/** A signed-in user's session (past the second step when they have 2FA). */
export function signedIn(
  deps: WebUiDeps,
  request: FastifyRequest,
  { change }: { readonly change: boolean },
): Session & { readonly userId: string } {
  const session = change ? sessionForChange(deps, request) : deps.sessions.get(sessionIdOf(request));
  if (session === null || session.stage !== 'signed-in' || session.userId === null) throw sessionEnded();
  return session as Session & { readonly userId: string };
}

/** A signed-in administrator's session (the demo's administrators are listed in UI_ADMINS). */
export function administrator(
  deps: WebUiDeps,
  request: FastifyRequest,
  options: { readonly change: boolean },
): Session & { readonly userId: string } {
  const session = signedIn(deps, request, options);
  if (!deps.admins.includes(session.userId)) {
    throw new HttpProblem(
      'forbidden',
      'only administrators may use this page (in this demo, the user ids listed in UI_ADMINS)',
    );
  }
  return session;
}

/** Moves the browser to a new session (new id, new CSRF token) and tells it so. */
export function advanceSession(
  deps: WebUiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  previous: Session | null,
  stage: SessionStage,
  userId: string | null,
): SessionView {
  const next = deps.sessions.advance(previous, stage, userId);
  setSessionCookie(request, reply, next.id);
  return sessionView(deps, next);
}

/** Route options where a code is tried: the per-address throttle's hooks. */
export const attempt = (deps: WebUiDeps) => ({
  preHandler: deps.attempts.preHandler,
  onError: deps.attempts.onError,
  onResponse: deps.attempts.onResponse,
});
