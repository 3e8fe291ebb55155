import { z } from 'zod';
import { qrCodeDataUrl } from '../qrCode.ts';
import { commandMetadata } from '../requestContext.ts';
import {
  accountNameSchema,
  authenticatorDocument,
  authenticatorNameSchema,
  authenticatorParams,
  EXACTLY_ONE_PROOF,
  exactlyOneProof,
  newSecretDocument,
  problemResponses,
  proofBody,
  proofFields,
  totpCodeSchema,
  userParams,
} from '../schemas.ts';
import { type AttemptRouteDeps, attemptHooks, type TypedApp } from './routeDeps.ts';
import { presented, verificationErrors } from './twoFactor.ts';

/**
 * A user's authenticator apps, several of them (role `web`): listed, added with proof and
 * confirmed with the new one's first code, renamed, removed with proof.
 */
export function authenticatorRoutes(
  app: TypedApp,
  { service, requireRole, attempts }: AttemptRouteDeps,
): void {
  const web = requireRole('web');
  const attempt = attemptHooks(web, attempts);
  const tags = ['authenticators'];
  const security = [{ apiKey: [] }];
  const path = '/v1/users/:userId/two-factor/authenticators';

  app.get(path, {
    onRequest: web,
    schema: {
      tags,
      summary: "A user's authenticator apps (oldest first), each with when it was added and last used",
      security,
      params: userParams,
      response: {
        200: z.object({ authenticators: z.array(authenticatorDocument).readonly() }),
        ...problemResponses(400, 401, 403, 503),
      },
    },
    handler: async (request) => ({ authenticators: await service.authenticators(request.params.userId) }),
  });

  app.post(path, {
    ...attempt,
    schema: {
      tags,
      summary:
        'Start adding one more authenticator app (at most 5), proven with a current code or a recovery code',
      description:
        'Answers the secret, URI and QR code of the new authenticator, pending until `…/{authenticatorId}/confirm` with its first code, within 15 minutes. The proof counts like any attempt. Starting another replaces the pending one.',
      security,
      params: userParams,
      body: z
        .strictObject({
          name: authenticatorNameSchema,
          accountName: accountNameSchema
            .optional()
            .describe('Shown in the authenticator app; the user id if not given'),
          ...proofFields,
        })
        .refine(exactlyOneProof, EXACTLY_ONE_PROOF),
      response: {
        201: z.object({ authenticatorId: z.string(), name: z.string(), ...newSecretDocument.shape }),
        ...verificationErrors,
      },
    },
    handler: async (request, reply) => {
      const { userId } = request.params;
      const { name, accountName } = request.body;
      const added = await service.addAuthenticator(
        userId,
        { name, accountName: accountName ?? userId, proof: presented(request.body) },
        commandMetadata(request, 'web', { actorRequired: false }),
        { workKey: attempts.keyOf(request) },
      );
      reply.status(201);
      return { ...added, qrCode: await qrCodeDataUrl(added.otpauthUri) };
    },
  });

  app.post(`${path}/:authenticatorId/confirm`, {
    ...attempt,
    schema: {
      tags,
      summary: 'Confirm an added authenticator with its first code; from then on its codes sign in',
      security,
      params: authenticatorParams,
      body: z.strictObject({ code: totpCodeSchema }),
      response: { 200: authenticatorDocument, ...verificationErrors },
    },
    handler: async (request) =>
      service.confirmAuthenticator(
        request.params.userId,
        request.params.authenticatorId,
        request.body.code,
        commandMetadata(request, 'web', { actorRequired: false }),
      ),
  });

  app.patch(`${path}/:authenticatorId`, {
    onRequest: web,
    schema: {
      tags,
      summary: 'Rename an authenticator (a label: no code needed)',
      security,
      params: authenticatorParams,
      body: z.strictObject({ name: authenticatorNameSchema }),
      response: { 200: authenticatorDocument, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) },
    },
    handler: async (request) =>
      service.renameAuthenticator(
        request.params.userId,
        request.params.authenticatorId,
        request.body.name,
        commandMetadata(request, 'web', { actorRequired: false }),
      ),
  });

  app.delete(`${path}/:authenticatorId`, {
    ...attempt,
    schema: {
      tags,
      summary: 'Remove an authenticator with a current code or a recovery code',
      description:
        'Removing the last one disables 2FA and follows the rules of disabling: refused with `403 two-factor-required` while the instance requires 2FA.',
      security,
      params: authenticatorParams,
      body: proofBody,
      response: {
        200: z.object({
          status: z.enum(['enabled', 'disabled']),
          authenticators: z.number().int().describe('How many are left'),
        }),
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 423, 429, 503),
      },
    },
    handler: async (request) =>
      service.removeAuthenticator(
        request.params.userId,
        request.params.authenticatorId,
        presented(request.body),
        commandMetadata(request, 'web', { actorRequired: false }),
        { workKey: attempts.keyOf(request) },
      ),
  });
}
