import { z } from 'zod';
import type { PresentedCode } from '../../application/twoFactorService.ts';
import { HttpProblem } from '../../http/problems.ts';
import type { TypedApp } from '../../http/routes/routeDeps.ts';
import { proofBody, userIdSchema } from '../../http/schemas.ts';
import { uiCommandMetadata } from '../endUser.ts';
import { sessionIdOf, setSessionCookie } from '../sessionCookie.ts';
import { advanceSession, attempt, sessionForChange, sessionView, type WebUiDeps } from '../uiContext.ts';

export const presented = (body: {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}): PresentedCode =>
  body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode ?? '' };

/**
 * The demo sign-in. The first step (a password, a social login) belongs to the product, so
 * here it is only a user id; the second step is the service's real verification, and until it
 * succeeds the session is not signed in.
 */
export function sessionRoutes(app: TypedApp, deps: WebUiDeps): void {
  app.get('/ui/api/session', {
    schema: { hide: true },
    handler: async (request, reply) => {
      const existing = deps.sessions.get(sessionIdOf(request));
      if (existing !== null) return sessionView(deps, existing);
      // A visitor gets an anonymous session so that even the sign-in carries a CSRF token.
      const session = deps.sessions.create('anonymous', null);
      setSessionCookie(request, reply, session.id);
      return sessionView(deps, session);
    },
  });

  app.post('/ui/api/session', {
    schema: { hide: true, body: z.strictObject({ userId: userIdSchema }) },
    handler: async (request, reply) => {
      const previous = sessionForChange(deps, request);
      const { userId } = request.body;
      const status = await deps.service.status(userId);
      const stage = status.status === 'enabled' ? 'second-step' : 'signed-in';
      return advanceSession(deps, request, reply, previous, stage, userId);
    },
  });

  app.post('/ui/api/session/verify', {
    ...attempt(deps),
    schema: { hide: true, body: proofBody },
    handler: async (request, reply) => {
      const previous = sessionForChange(deps, request);
      if (previous.stage !== 'second-step' || previous.userId === null) {
        throw new HttpProblem('unauthenticated', 'no sign-in is waiting for its second step: sign in again');
      }
      const userId = previous.userId;
      const verified = await deps.service.verify(
        userId,
        presented(request.body),
        uiCommandMetadata(request, { role: 'web', id: userId }),
      );
      return {
        session: advanceSession(deps, request, reply, previous, 'signed-in', userId),
        method: verified.method,
        recoveryCodesRemaining: verified.recoveryCodesRemaining,
      };
    },
  });

  app.post('/ui/api/session/sign-out', {
    schema: { hide: true, body: z.strictObject({}).nullish() },
    handler: async (request, reply) => {
      const previous = sessionForChange(deps, request);
      return advanceSession(deps, request, reply, previous, 'anonymous', null);
    },
  });
}
