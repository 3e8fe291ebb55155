import type { FastifyRequest } from 'fastify';
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
import type { SessionRestriction } from '../sessionStore.ts';
import {
  anonymousView,
  attempt,
  currentSession,
  endSession,
  isAdministrator,
  proxiedUser,
  sessionForChange,
  sessionView,
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
 * What a session signed in without a second step must do first, from the user's status: an
 * administrator without 2FA sets it up before anything else. (Where a policy will require
 * setup at sign-in, it is decided here too.)
 */
export function restrictionAtSignIn(
  deps: WebUiDeps,
  userId: string,
  _status: TwoFactorStatus,
): SessionRestriction | null {
  return isAdministrator(deps, userId) ? 'enroll' : null;
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
      return session === null ? anonymousView(deps, request, reply) : sessionView(deps, session);
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
      const status = await deps.service.status(userId);
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
      return startSession(deps, reply, previous, {
        stage: 'signed-in',
        userId,
        address,
        secondFactor: false,
        restriction: restrictionAtSignIn(deps, userId, status),
      });
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
