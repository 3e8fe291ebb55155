import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { qrCodeDataUrl } from '../../http/qrCode.ts';
import type { TypedApp } from '../../http/routes/routeDeps.ts';
import { proofBody, totpCodeSchema } from '../../http/schemas.ts';
import { uiCommandMetadata } from '../endUser.ts';
import type { Session } from '../sessionStore.ts';
import {
  attempt,
  isAdministrator,
  type SessionView,
  secondsUntil,
  sessionView,
  signedIn,
  startSession,
  type WebUiDeps,
} from '../uiContext.ts';
import { presented } from './sessionRoutes.ts';

/**
 * Settings → Account → Two-factor authentication, for the signed-in user only. A session that
 * must set up 2FA first reaches the status and the setup, nothing else.
 */
export function accountRoutes(app: TypedApp, deps: WebUiDeps): void {
  const web = (userId: string) => ({ role: 'web' as const, id: userId });
  /** The same user, signed in on, in a new session that may do something else than `session`. */
  const resume = (
    reply: FastifyReply,
    session: Session,
    may: Pick<Session, 'secondFactor' | 'restriction'>,
  ): SessionView =>
    startSession(deps, reply, session, {
      stage: 'signed-in',
      userId: session.userId,
      address: session.address,
      ...may,
    });

  app.get('/ui/api/account/two-factor', {
    schema: { hide: true },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: false, whileRestricted: true });
      const status = await deps.service.status(userId, uiCommandMetadata(request, web(userId)));
      // The page cannot compare these times with its own clock: the service's clock decides,
      // and the page counts the seconds down from there.
      const now = deps.clock();
      return {
        ...status,
        lockedForSeconds: status.locked ? secondsUntil(status.lockedUntil, now) : null,
        recoveryCodesLockedForSeconds: status.recoveryCodesLocked
          ? secondsUntil(status.recoveryCodesLockedUntil, now)
          : null,
        enrollInSeconds: status.canDefer ? secondsUntil(status.enrollBy, now) : null,
      };
    },
  });

  app.post('/ui/api/account/two-factor/enrollment', {
    schema: { hide: true, body: z.strictObject({}).nullish() },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: true, whileRestricted: true });
      const started = await deps.service.startEnrollment(
        userId,
        { accountName: userId, proof: null },
        uiCommandMetadata(request, web(userId)),
      );
      // The API's enrollment answer, QR code included, made the same way.
      return {
        secret: started.secret,
        otpauthUri: started.otpauthUri,
        qrCode: await qrCodeDataUrl(started.otpauthUri),
        expiresAt: started.expiresAt,
      };
    },
  });

  app.post('/ui/api/account/two-factor/enrollment/confirm', {
    ...attempt(deps),
    schema: { hide: true, body: z.strictObject({ code: totpCodeSchema }) },
    handler: async (request, reply) => {
      const session = signedIn(deps, request, { change: true, whileRestricted: true });
      const { userId } = session;
      const confirmed = await deps.service.confirmEnrollment(
        userId,
        request.body.code,
        uiCommandMetadata(request, web(userId)),
      );
      // A code from the new authenticator is a second step passed: the session may now do
      // whatever its user may, administration included.
      return { ...confirmed, session: resume(reply, session, { secondFactor: true, restriction: null }) };
    },
  });

  app.post('/ui/api/account/two-factor/recovery-codes', {
    ...attempt(deps),
    schema: { hide: true, body: z.strictObject({ code: totpCodeSchema }) },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: true });
      return deps.service.regenerateRecoveryCodes(
        userId,
        request.body.code,
        uiCommandMetadata(request, web(userId)),
      );
    },
  });

  app.post('/ui/api/account/two-factor/disable', {
    ...attempt(deps),
    schema: { hide: true, body: proofBody },
    handler: async (request, reply) => {
      const session = signedIn(deps, request, { change: true });
      const { userId } = session;
      const disabled = await deps.service.disable(
        userId,
        presented(request.body),
        uiCommandMetadata(request, web(userId)),
      );
      if (!isAdministrator(deps, userId)) return { ...disabled, session: sessionView(deps, session) };
      // An administrator without 2FA sets it up again before anything else.
      return { ...disabled, session: resume(reply, session, { secondFactor: false, restriction: 'enroll' }) };
    },
  });
}
