import { z } from 'zod';
import type { PresentedCode } from '../../application/twoFactorService.ts';
import { qrCodeDataUrl } from '../qrCode.ts';
import { commandMetadata } from '../requestContext.ts';
import {
  accountNameSchema,
  authenticatorNameSchema,
  EXACTLY_ONE_PROOF,
  exactlyOneProof,
  newSecretDocument,
  problemResponses,
  proofBody,
  proofFields,
  statusDocument,
  totpCodeSchema,
  userParams,
} from '../schemas.ts';
import { type AttemptRouteDeps, attemptHooks, type TypedApp } from './routeDeps.ts';

export const presented = (body: {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}): PresentedCode =>
  body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode ?? '' };

export const verificationErrors = problemResponses(400, 401, 403, 409, 413, 415, 422, 423, 429, 503);

/** The end user's own 2FA, called by the web API on the user's behalf (role `web`). */
export function twoFactorRoutes(app: TypedApp, { service, requireRole, attempts }: AttemptRouteDeps): void {
  const web = requireRole('web');
  // Where a code is tried: throttled per end-user address, failures counted.
  const attempt = attemptHooks(web, attempts);
  const tags = ['two-factor'];

  app.get('/v1/users/:userId/two-factor', {
    onRequest: web,
    schema: {
      tags,
      summary: "A user's 2FA status (read-your-writes); read it at sign-in",
      description:
        'When `enrollmentRequired` is true, lead the user into setup: at once when `enrollBy` is null or past, otherwise the user may defer until `enrollBy`. The first read of such a user while 2FA is required records their deadline (X-Request-Id, X-End-User-IP and X-End-User-Agent are kept with it, as for a command); every other read writes nothing.',
      security: [{ apiKey: [] }],
      params: userParams,
      response: { 200: statusDocument, ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) =>
      service.status(request.params.userId, commandMetadata(request, 'web', { actorRequired: false })),
  });

  app.post('/v1/users/:userId/two-factor/enrollment', {
    ...attempt,
    schema: {
      tags,
      summary: 'Start enrolling an authenticator app (or a replacement, with proof, while enabled)',
      security: [{ apiKey: [] }],
      params: userParams,
      body: z
        .strictObject({
          accountName: accountNameSchema,
          authenticatorName: authenticatorNameSchema.optional(),
          ...proofFields,
        })
        .refine((b) => b.code === undefined || b.recoveryCode === undefined, EXACTLY_ONE_PROOF),
      response: {
        201: newSecretDocument,
        ...verificationErrors,
      },
    },
    handler: async (request, reply) => {
      const { userId } = request.params;
      const { accountName, authenticatorName } = request.body;
      const proof = exactlyOneProof(request.body) ? presented(request.body) : null;
      const started = await service.startEnrollment(
        userId,
        { accountName, proof, ...(authenticatorName === undefined ? {} : { authenticatorName }) },
        commandMetadata(request, 'web', { actorRequired: false }),
        { workKey: attempts.keyOf(request) },
      );
      reply.status(201);
      return {
        secret: started.secret,
        otpauthUri: started.otpauthUri,
        qrCode: await qrCodeDataUrl(started.otpauthUri),
        expiresAt: started.expiresAt ?? '',
      };
    },
  });

  app.post('/v1/users/:userId/two-factor/enrollment/confirm', {
    ...attempt,
    schema: {
      tags,
      summary: 'Confirm the enrollment with a code; returns the ten recovery codes, once',
      security: [{ apiKey: [] }],
      params: userParams,
      body: z.strictObject({ code: totpCodeSchema }),
      response: {
        200: z.object({ status: z.literal('enabled'), recoveryCodes: z.array(z.string()).readonly() }),
        // 423/429: confirming a replacement on a locked factor.
        ...verificationErrors,
      },
    },
    handler: async (request) =>
      service.confirmEnrollment(
        request.params.userId,
        request.body.code,
        commandMetadata(request, 'web', { actorRequired: false }),
      ),
  });

  app.post('/v1/users/:userId/two-factor/verify', {
    ...attempt,
    schema: {
      tags,
      summary: 'The sign-in second step: a TOTP code or a recovery code',
      security: [{ apiKey: [] }],
      params: userParams,
      body: proofBody,
      response: {
        200: z.object({
          verified: z.literal(true),
          method: z.enum(['totp', 'recovery-code']),
          authenticatorId: z
            .string()
            .nullable()
            .describe(
              'The authenticator whose code it was (any of the user’s works); null for a recovery code',
            ),
          recoveryCodesRemaining: z.number().int(),
        }),
        ...verificationErrors,
      },
    },
    handler: async (request) =>
      service.verify(
        request.params.userId,
        presented(request.body),
        commandMetadata(request, 'web', { actorRequired: false }),
        { workKey: attempts.keyOf(request) },
      ),
  });

  app.post('/v1/users/:userId/two-factor/recovery-codes', {
    ...attempt,
    schema: {
      tags,
      summary: 'Regenerate the recovery codes (a current TOTP code is required); earlier codes stop working',
      security: [{ apiKey: [] }],
      params: userParams,
      body: z
        .strictObject({
          code: totpCodeSchema.optional(),
          recoveryCode: z
            .never({
              message: 'a recovery code cannot regenerate the codes: send a current authenticator code',
            })
            .optional(),
        })
        .refine((body) => body.code !== undefined, { message: 'required', path: ['code'] }),
      response: { 200: z.object({ recoveryCodes: z.array(z.string()).readonly() }), ...verificationErrors },
    },
    handler: async (request) =>
      service.regenerateRecoveryCodes(
        request.params.userId,
        request.body.code ?? '',
        commandMetadata(request, 'web', { actorRequired: false }),
      ),
  });

  app.post('/v1/users/:userId/two-factor/disable', {
    ...attempt,
    schema: {
      tags,
      summary: 'Disable 2FA with a TOTP code or a recovery code (refused when the instance requires 2FA)',
      security: [{ apiKey: [] }],
      params: userParams,
      body: proofBody,
      response: { 200: z.object({ status: z.literal('disabled') }), ...verificationErrors },
    },
    handler: async (request) =>
      service.disable(
        request.params.userId,
        presented(request.body),
        commandMetadata(request, 'web', { actorRequired: false }),
        { workKey: attempts.keyOf(request) },
      ),
  });
}
