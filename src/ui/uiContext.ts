import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TwoFactorService } from '../application/twoFactorService.ts';
import type { TwoFactorStatus } from '../domain/twoFactor/status.ts';
import { isUserId } from '../domain/twoFactor/userId.ts';
import type { AttemptGuard } from '../http/attemptGuard.ts';
import { HttpProblem } from '../http/problems.ts';
import type { ListUsersQuery, UserPage, UsersSummary } from '../projections/readModels.ts';
import { checkCsrf } from './csrf.ts';
import { SESSION_COOKIE, SIGN_IN_COOKIE, type UiCookies } from './sessionCookie.ts';
import { type Session, type SessionStore, SessionsFullError } from './sessionStore.ts';
import type { SignInTokens } from './signInToken.ts';

/**
 * Where the first step of a sign-in comes from: an authenticating proxy in front of the UI,
 * which sets `header` to the signed-in user's id (believed only when the connection comes from
 * a proxy TRUST_PROXY names), or the demo form that takes any user id (`banner`: say so on
 * every page, as in production).
 */
export type FirstStep =
  | {
      readonly kind: 'trusted-header';
      readonly header: string;
      readonly trusted: (address: string, hop: number) => boolean;
    }
  | { readonly kind: 'demo'; readonly banner: boolean };

export type WebUiDeps = {
  /** the same application service the API's routes call */
  readonly service: TwoFactorService;
  /** the admin user list's read model */
  readonly listUsers: (query: ListUsersQuery) => UserPage;
  /** the admin page's coverage line, from the same read model */
  readonly usersSummary: (nowMs: number) => UsersSummary;
  /** the service's clock, for "locked for N seconds" */
  readonly clock: () => number;
  /** user ids that may open the admin page, once they have passed the second step */
  readonly admins: readonly string[];
  /** shown as the product's name (the TOTP issuer) */
  readonly productName: string;
  readonly sessions: SessionStore;
  /** where a code is tried: failures counted, and refused past the limit, per browser address */
  readonly attempts: AttemptGuard;
  /** the origins the UI answers on: PUBLIC_URL, or this machine's on the bound port */
  readonly origins: () => readonly string[];
  readonly cookies: UiCookies;
  readonly signInTokens: SignInTokens;
  readonly firstStep: FirstStep;
};

/** What the page may know of its session (or of its absence, `anonymous`). */
export type SessionView = {
  readonly stage: 'anonymous' | Session['stage'];
  readonly userId: string | null;
  /** may use the admin page now: listed in UI_ADMINS, 2FA on and its second step passed here */
  readonly admin: boolean;
  /** must set up two-factor authentication before anything else */
  readonly mustEnroll: boolean;
  /** why: an administrator without it, or the policy's deadline for this user has come */
  readonly mustEnrollBecause: 'administrator' | 'policy' | null;
  /**
   * 2FA is required and this user may still put setting it up off: the page asks "Set up now"
   * or "Remind me later" (once a session); null otherwise
   */
  readonly setupOffer: SetupOffer | null;
  /** the token for the next change: the session's, or before a sign-in the form's */
  readonly csrfToken: string;
  readonly productName: string;
  /** how the first step is taken: the demo form, or the authenticating proxy in front */
  readonly firstStep: FirstStep['kind'];
};

/** Until when a user may put the setup off, and how long that is by the service's clock. */
export type SetupOffer = { readonly enrollBy: string; readonly secondsLeft: number };

export const isAdministrator = (deps: WebUiDeps, userId: string) => deps.admins.includes(userId);

/** Seconds from `nowMs` until `isoTime`, at least 1; null when there is no such time. */
export const secondsUntil = (isoTime: string | null, nowMs: number): number | null =>
  isoTime === null ? null : Math.max(1, Math.ceil((Date.parse(isoTime) - nowMs) / 1000));

/**
 * What "require 2FA" asks of a user signed in without it, by their status: setup at once (no
 * grace, or none left), or an offer to put it off until their deadline.
 */
export function enrollmentDemand(
  deps: WebUiDeps,
  status: TwoFactorStatus,
): { readonly due: boolean; readonly offer: SetupOffer | null } {
  if (!status.enrollmentRequired) return { due: false, offer: null };
  if (!status.canDefer || status.enrollBy === null) return { due: true, offer: null };
  return {
    due: false,
    offer: { enrollBy: status.enrollBy, secondsLeft: secondsUntil(status.enrollBy, deps.clock()) ?? 1 },
  };
}

/**
 * The view of a session. Given the user's status just read (at sign-in, or when the page
 * loads), it carries the offer to put a required setup off, unless the user already chose
 * "Remind me later" in this session.
 */
export function sessionView(deps: WebUiDeps, session: Session, status?: TwoFactorStatus): SessionView {
  const restricted = session.restriction === 'enroll';
  const offer =
    status === undefined || restricted || session.setupDeferred || session.stage !== 'signed-in'
      ? null
      : enrollmentDemand(deps, status).offer;
  return {
    stage: session.stage,
    userId: session.userId,
    admin:
      session.stage === 'signed-in' &&
      session.restriction === null &&
      session.secondFactor &&
      isAdministrator(deps, session.userId),
    mustEnroll: restricted,
    mustEnrollBecause: restricted
      ? isAdministrator(deps, session.userId)
        ? 'administrator'
        : 'policy'
      : null,
    setupOffer: offer,
    csrfToken: session.csrfToken,
    productName: deps.productName,
    firstStep: deps.firstStep.kind,
  };
}

/**
 * The view of a browser without a session, with the sign-in form's token: the one the
 * browser holds in its cookie while it is still good, else a fresh one set now.
 */
export function anonymousView(deps: WebUiDeps, request: FastifyRequest, reply: FastifyReply): SessionView {
  const held = deps.cookies.read(request, SIGN_IN_COOKIE);
  let token = held;
  if (token === undefined || !deps.signInTokens.valid(token, Date.now())) {
    token = deps.signInTokens.issue(Date.now());
    deps.cookies.set(reply, SIGN_IN_COOKIE, token);
  }
  return {
    stage: 'anonymous',
    userId: null,
    admin: false,
    mustEnroll: false,
    mustEnrollBecause: null,
    setupOffer: null,
    csrfToken: token,
    productName: deps.productName,
    firstStep: deps.firstStep.kind,
  };
}

export const signInFirst = (detail = 'your session has ended or was never started: sign in again') =>
  new HttpProblem('unauthenticated', detail, { title: 'Sign in first' });

/**
 * The user the authenticating proxy says is signed in: the trusted header of a request whose
 * connection comes from a proxy TRUST_PROXY names; null otherwise (from anyone else, the
 * header is only what a client chose to write).
 */
export function proxiedUser(deps: WebUiDeps, request: FastifyRequest): string | null {
  const step = deps.firstStep;
  if (step.kind !== 'trusted-header') return null;
  const peer = request.socket.remoteAddress;
  if (peer === undefined || !step.trusted(peer, 0)) return null;
  const value = request.headers[step.header];
  if (typeof value !== 'string') return null;
  const userId = value.trim();
  return isUserId(userId) ? userId : null;
}

/**
 * The browser's live session, or null. Behind an authenticating proxy a session lasts only
 * while the proxy still vouches for the same user: signed out there (or another person signed
 * in on that browser), it ends here too.
 */
export function currentSession(deps: WebUiDeps, request: FastifyRequest): Session | null {
  const session = deps.sessions.get(deps.cookies.read(request, SESSION_COOKIE));
  if (session === null) return null;
  if (deps.firstStep.kind === 'trusted-header' && proxiedUser(deps, request) !== session.userId) {
    deps.sessions.destroy(session.id);
    return null;
  }
  return session;
}

/** The session of a request that changes something: it must exist and pass the CSRF check. */
export function sessionForChange(deps: WebUiDeps, request: FastifyRequest): Session {
  const session = currentSession(deps, request);
  if (session === null) throw signInFirst();
  checkCsrf(request, deps.origins(), session.csrfToken);
  return session;
}

/**
 * A signed-in user's session (past the second step when they have 2FA). A restricted session
 * (an administrator without 2FA, or a user whose deadline to set it up has come) reaches only
 * the routes that lead there.
 */
export function signedIn(
  deps: WebUiDeps,
  request: FastifyRequest,
  { change, whileRestricted = false }: { readonly change: boolean; readonly whileRestricted?: boolean },
): Session {
  const session = change ? sessionForChange(deps, request) : currentSession(deps, request);
  if (session === null || session.stage !== 'signed-in') throw signInFirst();
  if (session.restriction === 'enroll' && !whileRestricted) throw setUpTwoFactorFirst();
  return session;
}

export const setUpTwoFactorFirst = () =>
  new HttpProblem(
    'forbidden',
    'this account must set up two-factor authentication before anything else: set it up (or sign out)',
    { title: 'Set up two-factor authentication first' },
  );

/**
 * A signed-in administrator's session: listed in UI_ADMINS, with two-factor authentication on
 * now (asked of the service, so a reset elsewhere takes effect at once), and the second step
 * passed in this very session.
 */
export async function administrator(
  deps: WebUiDeps,
  request: FastifyRequest,
  options: { readonly change: boolean },
): Promise<Session> {
  const session = signedIn(deps, request, options);
  if (!isAdministrator(deps, session.userId)) {
    throw new HttpProblem('forbidden', 'only the user ids listed in UI_ADMINS may use the admin page', {
      title: 'Only administrators may do this',
    });
  }
  const { status } = await deps.service.status(session.userId);
  if (status !== 'enabled' || !session.secondFactor) throw setUpTwoFactorFirst();
  return session;
}

/**
 * Moves the browser to a new session (new id, new CSRF token) and tells it so; `previous` ends.
 * When every signed-in session the service keeps is taken, the sign-in waits: nobody already
 * signed in is pushed out for it.
 */
export function startSession(
  deps: WebUiDeps,
  reply: FastifyReply,
  previous: Session | null,
  fields: Parameters<SessionStore['start']>[1],
  status?: TwoFactorStatus,
): SessionView {
  let next: Session;
  try {
    next = deps.sessions.start(previous, fields);
  } catch (error) {
    if (!(error instanceof SessionsFullError)) throw error;
    throw new HttpProblem(
      'unavailable',
      'too many people are signed in right now; try again in a few minutes',
      {
        headers: { 'retry-after': '60' },
        title: 'Too many sessions',
      },
    );
  }
  deps.cookies.set(reply, SESSION_COOKIE, next.id);
  return sessionView(deps, next, status);
}

/** Ends the browser's session, if any, and answers with the view of a browser signed out. */
export function endSession(
  deps: WebUiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session | null,
): SessionView {
  if (session !== null) deps.sessions.destroy(session.id);
  deps.cookies.clear(reply, SESSION_COOKIE);
  return anonymousView(deps, request, reply);
}

/** Route options where a code is tried: the per-address throttle's hooks. */
export const attempt = (deps: WebUiDeps) => ({
  preHandler: deps.attempts.preHandler,
  onError: deps.attempts.onError,
  onResponse: deps.attempts.onResponse,
});
