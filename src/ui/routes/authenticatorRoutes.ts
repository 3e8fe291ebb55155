import { z } from 'zod';
import {
  AUTHENTICATOR_ID_PATTERN,
  authenticatorNameProblem,
  normaliseAuthenticatorName,
} from '../../domain/twoFactor/authenticatorNames.ts';
import { qrCodeDataUrl } from '../../http/qrCode.ts';
import type { TypedApp } from '../../http/routes/routeDeps.ts';
import { EXACTLY_ONE_PROOF, exactlyOneProof, proofFields, totpCodeSchema } from '../../http/schemas.ts';
import { uiCommandMetadata } from '../endUser.ts';
import {
  attempt,
  isAdministrator,
  sessionView,
  signedIn,
  startSession,
  type WebUiDeps,
} from '../uiContext.ts';
import { presented } from './sessionRoutes.ts';

/**
 * A name as the page sends it: trimmed, then held to the domain's rule (1–64 characters, no
 * control characters or bidirectional marks). Uniqueness is the service's to decide.
 */
export const authenticatorNameSchema = z
  .string()
  .max(1024, 'must be at most 64 characters')
  .transform(normaliseAuthenticatorName)
  .superRefine((name, context) => {
    const problem = authenticatorNameProblem(name);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem });
  });

const authenticatorParams = z.strictObject({
  authenticatorId: z.string().regex(AUTHENTICATOR_ID_PATTERN, 'not an authenticator id'),
});

/**
 * Settings → Account → the authenticator apps of the signed-in user (2FA on, second step
 * passed): list, add one more (proved with a current code or a recovery code, then confirmed
 * with a code of the new app), rename, remove (proved again). The sign-in itself is unchanged:
 * a code of any of them passes the second step.
 */
export function authenticatorRoutes(app: TypedApp, deps: WebUiDeps): void {
  const web = (userId: string) => ({ role: 'web' as const, id: userId });

  app.get('/ui/api/account/two-factor/authenticators', {
    schema: { hide: true },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: false });
      return { authenticators: await deps.service.authenticators(userId) };
    },
  });

  app.post('/ui/api/account/two-factor/authenticators', {
    ...attempt(deps),
    schema: {
      hide: true,
      body: z
        .strictObject({ name: authenticatorNameSchema, ...proofFields })
        .refine(exactlyOneProof, EXACTLY_ONE_PROOF),
    },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: true });
      const added = await deps.service.addAuthenticator(
        userId,
        { name: request.body.name, accountName: userId, proof: presented(request.body) },
        uiCommandMetadata(request, web(userId)),
      );
      // Pending until a code of the new app confirms it; the QR code is made as the API's is.
      return {
        authenticatorId: added.authenticatorId,
        name: added.name,
        secret: added.secret,
        otpauthUri: added.otpauthUri,
        qrCode: await qrCodeDataUrl(added.otpauthUri),
        expiresAt: added.expiresAt,
      };
    },
  });

  app.post('/ui/api/account/two-factor/authenticators/:authenticatorId/confirm', {
    ...attempt(deps),
    schema: { hide: true, params: authenticatorParams, body: z.strictObject({ code: totpCodeSchema }) },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: true });
      return deps.service.confirmAuthenticator(
        userId,
        request.params.authenticatorId,
        request.body.code,
        uiCommandMetadata(request, web(userId)),
      );
    },
  });

  // A label only, like the API's: no code asked.
  app.patch('/ui/api/account/two-factor/authenticators/:authenticatorId', {
    schema: {
      hide: true,
      params: authenticatorParams,
      body: z.strictObject({ name: authenticatorNameSchema }),
    },
    handler: async (request) => {
      const { userId } = signedIn(deps, request, { change: true });
      return deps.service.renameAuthenticator(
        userId,
        request.params.authenticatorId,
        request.body.name,
        uiCommandMetadata(request, web(userId)),
      );
    },
  });

  app.delete('/ui/api/account/two-factor/authenticators/:authenticatorId', {
    ...attempt(deps),
    schema: {
      hide: true,
      params: authenticatorParams,
      body: z.strictObject(proofFields).refine(exactlyOneProof, EXACTLY_ONE_PROOF),
    },
    handler: async (request, reply) => {
      const session = signedIn(deps, request, { change: true });
      const { userId } = session;
      const removed = await deps.service.removeAuthenticator(
        userId,
        request.params.authenticatorId,
        presented(request.body),
        uiCommandMetadata(request, web(userId)),
      );
      if (removed.status === 'enabled' || !isAdministrator(deps, userId)) {
        return { ...removed, session: sessionView(deps, session) };
      }
      // The last one gone turns 2FA off: an administrator sets it up again before anything
      // else, as after turning it off with the switch.
      return {
        ...removed,
        session: startSession(deps, reply, session, {
          stage: 'signed-in',
          userId,
          address: session.address,
          secondFactor: false,
          restriction: 'enroll',
        }),
      };
    },
  });
}
