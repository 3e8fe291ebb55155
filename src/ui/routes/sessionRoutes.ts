import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { PresentedCode } from '../../application/twoFactorService.ts';
import type { TwoFactorStatus } from '../../domain/twoFactor/status.ts';
import { HttpProblem } from '../../http/problems.ts';
import type { TypedApp } from '../../http/routes/routeDeps.ts';
import { proofBody, userIdSchema } from '../../http/schemas.ts';
import { throttleKeyOfAddress } from '../../http/throttleKey.ts';
import { checkCsrf } from '../csrf.ts';
import { uiCommandMetadata } from '../endUser.ts';
import { SIGN_IN_COOKIE } from '../sessionCookie.ts';
import type { Session, SessionRestriction } from '../sessionStore.ts';
import {
  anonymousView,
  attempt,
  currentSession,
  endSession,
  enrollmentDemand,
  isAdministrator,
  proxiedUser,
  type SessionView,
  sessionForChange,
  sessionView,
  signedIn,
  signInFirst,
  startSession,
  type WebUiDeps,
} from '../uiContext.ts';

export const presented = (body: {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}): PresentedCode =>
  body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode ?? '' };

/**
 * What a session signed in without 2FA must do first, from the user's status: set it up
 * before anything else when they are an administrator, or when 2FA is required for all users
 * and the user's deadline has come (no grace, none left, or an emergency reset).
 */
export function restrictionAtSignIn(
  deps: WebUiDeps,
  userId: string,
  status: TwoFactorStatus,
): SessionRestriction | null {
  if (status.status === 'enabled') return null;
  return isAdministrator(deps, userId) || enrollmentDemand(deps, status).due ? 'enroll' : null;
}

/**
 * A signed-in session seen again (the page loaded, or the user asked to be reminded later),
 * with its user's status now: a deadline that has come since the sign-in (it ran out, the
 * grace was shortened, 2FA was reset elsewhere) restricts it from here on, in a new session.
 */
async function reassessed(
  deps: WebUiDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
): Promise<{ readonly session: Session; readonly view: SessionView; readonly deferrable: boolean }> {
  const status = await deps.service.status(
    session.userId,
    uiCommandMetadata(request, { role: 'web', id: session.userId }),
  );
  if (session.restriction === null && restrictionAtSignIn(deps, session.userId, status) === 'enroll') {
    const view = startSession(deps, reply, session, {
      stage: 'signed-in',
      userId: session.userId,
      address: session.address,
      secondFactor: false,
      restriction: 'enroll',
    });
    return { session, view, deferrable: false };
  }
  return {
    session,
    view: sessionView(deps, session, status),
    deferrable: session.restriction === null && enrollmentDemand(deps, status).offer !== null,
  };
}

/** Who signs in: the user the proxy vouches for, or (demo) the user id typed in. */
function firstStepUser(deps: WebUiDeps, request: FastifyRequest, typed: string | undefined): string {
  if (deps.firstStep.kind === 'demo') {
    if (typed === undefined) throw signInFirst('body.userId: a user id is required');
    return typed;
  }
  if (typed !== undefined) {
    throw new HttpProblem(
      'invalid-request',
      'body.userId: not taken here: the sign-in proxy says who signs in',
    );
  }
  const userId = proxiedUser(deps, request);
  if (userId === null) {
    throw signInFirst(
      'this request did not come through the sign-in proxy in front of this page (or it named no user): open the page through it',
    );
  }
  return userId;
}

/**
 * Sign-in, the second step and sign-out. The first step — a password, a social login — is
 * the product's: in production it comes from the authenticating proxy in front (a trusted
 * header); the demo form takes any user id. The second step is the service's real
 * verification, and until it succeeds the session is not signed in.
 */
export function sessionRoutes(app: TypedApp, deps: WebUiDeps): void {
  app.get('/ui/api/session', {
    schema: { hide: true },
    handler: async (request, reply) => {
      const session = currentSession(deps, request);
      // No session is made for a visitor: only a signed token for the sign-in form.
      if (session === null) return anonymousView(deps, request, reply);
      if (session.stage !== 'signed-in') return sessionView(deps, session);
      return (await reassessed(deps, request, reply, session)).view;
    },
  });

  // "Remind me later": a setup the user may still put off is not asked for again in this
  // session. Past the deadline (it may have come since the page was drawn), the setup is due.
  app.post('/ui/api/session/remind-later', {
    schema: { hide: true, body: z.strictObject({}).nullish() },
    handler: async (request, reply) => {
      const now = await reassessed(deps, request, reply, signedIn(deps, request, { change: true }));
      if (!now.deferrable) return now.view;
      now.session.setupDeferred = true;
      return sessionView(deps, now.session);
    },
  });

  app.post('/ui/api/session', {
    schema: { hide: true, body: z.strictObject({ userId: userIdSchema.optional() }).nullish() },
    handler: async (request, reply) => {
      const token = deps.cookies.read(request, SIGN_IN_COOKIE);
      const signable = token !== undefined && deps.signInTokens.valid(token, Date.now()) ? token : undefined;
      checkCsrf(request, deps.origins(), signable);
      const userId = firstStepUser(deps, request, request.body?.userId);
      const previous = currentSession(deps, request);
      // A sign-in is when "require 2FA" first sees a user: their deadline is recorded as theirs.
      const status = await deps.service.status(
        userId,
        uiCommandMetadata(request, { role: 'web', id: userId }),
      );
      const address = throttleKeyOfAddress(request.ip);
      if (status.status === 'enabled') {
        return startSession(deps, reply, previous, {
          stage: 'second-step',
          userId,
          address,
          secondFactor: false,
          restriction: null,
        });
      }
      return startSession(
        deps,
        reply,
        previous,
        {
          stage: 'signed-in',
          userId,
          address,
          secondFactor: false,
          restriction: restrictionAtSignIn(deps, userId, status),
        },
        status,
      );
    },
  });

  app.post('/ui/api/session/verify', {
    ...attempt(deps),
    schema: { hide: true, body: proofBody },
    handler: async (request, reply) => {
      const previous = sessionForChange(deps, request);
      if (previous.stage !== 'second-step') {
        throw signInFirst('no sign-in is waiting for its second step: sign in again');
      }
      const { userId } = previous;
      const verified = await deps.service.verify(
        userId,
        presented(request.body),
        uiCommandMetadata(request, { role: 'web', id: userId }),
      );
      return {
        session: startSession(deps, reply, previous, {
          stage: 'signed-in',
          userId,
          address: previous.address,
          secondFactor: true,
          restriction: null,
        }),
        method: verified.method,
        recoveryCodesRemaining: verified.recoveryCodesRemaining,
      };
    },
  });

  app.post('/ui/api/session/sign-out', {
    schema: { hide: true, body: z.strictObject({}).nullish() },
    handler: async (request, reply) => endSession(deps, request, reply, sessionForChange(deps, request)),
  });
}
