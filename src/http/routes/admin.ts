import { z } from 'zod';
import { commandMetadata } from '../requestContext.ts';
import { policyDocument, problemResponses, reasonSchema, statusDocument, userParams } from '../schemas.ts';
import type { RouteDeps, TypedApp } from './routeDeps.ts';

/** Administrators' commands (role `admin`, `X-Actor-Id` required on every change). */
export function adminRoutes(app: TypedApp, { service, requireRole }: RouteDeps): void {
  const admin = requireRole('admin');
  const tags = ['admin'];
  const security = [{ apiKey: [] }];
  const actorHeader = z.object({
    'x-actor-id': z.string().optional().describe('The administrator acting (required)'),
  });

  app.post('/v1/admin/users/:userId/two-factor/reset', {
    onRequest: admin,
    schema: {
      tags,
      security,
      summary:
        "Emergency reset: the user's authenticator and recovery codes stop working; works in any state",
      params: userParams,
      headers: actorHeader,
      body: z.strictObject({ reason: reasonSchema }),
      response: { 200: z.object({ status: z.literal('disabled') }), ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) =>
      service.reset(
        request.params.userId,
        request.body.reason,
        commandMetadata(request, 'admin', { actorRequired: true }),
      ),
  });

  app.post('/v1/admin/users/:userId/erase', {
    onRequest: admin,
    schema: {
      tags,
      security,
      summary: "Erase the user's personal data by destroying their data key (crypto-shredding)",
      description:
        "Destroys the user's data key, then records UserErased (who, when, why; no personal data). Afterwards the user's TOTP secret, recovery-code pepper, end-user addresses and user agents cannot be opened by anyone; 2FA reads disabled; the history still replays and verifies, with every record's personal fields marked erased (personalDataErased). A later enrollment of the same user id starts with a fresh data key. Works in any state, and again on an erased user. Events written before data keys are out of its reach: `eventsWrittenBeforeDataKeys` counts them.",
      params: userParams,
      headers: actorHeader,
      body: z.strictObject({ reason: reasonSchema }),
      response: {
        200: z.object({
          status: z.literal('disabled'),
          erased: z.literal(true),
          eventsWrittenBeforeDataKeys: z
            .number()
            .int()
            .optional()
            .describe(
              'Present when some of the user’s events were written before data keys: they keep their end-user addresses and agents in plain text (events are never rewritten)',
            ),
        }),
        ...problemResponses(400, 401, 403, 503),
      },
    },
    handler: async (request) =>
      service.erase(
        request.params.userId,
        request.body.reason,
        commandMetadata(request, 'admin', { actorRequired: true }),
      ),
  });

  app.post('/v1/admin/users/:userId/two-factor/unlock', {
    onRequest: admin,
    schema: {
      tags,
      security,
      summary:
        "Clear both lockouts — the authenticator app's and the recovery codes' — temporary or until an administrator unlocks",
      params: userParams,
      headers: actorHeader,
      body: z.strictObject({}).nullish(),
      response: { 200: statusDocument, ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) =>
      service.unlock(request.params.userId, commandMetadata(request, 'admin', { actorRequired: true })),
  });

  app.get('/v1/admin/policy', {
    onRequest: admin,
    schema: {
      tags,
      security,
      summary: 'The instance policy',
      response: { 200: policyDocument, ...problemResponses(401, 403, 503) },
    },
    handler: async () => service.policy(),
  });

  app.put('/v1/admin/policy', {
    onRequest: admin,
    schema: {
      tags,
      security,
      summary: 'Require (or stop requiring) 2FA for all users',
      headers: actorHeader,
      body: z.strictObject({ requireTwoFactor: z.boolean() }),
      response: { 200: policyDocument, ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) =>
      service.changePolicy(
        request.body.requireTwoFactor,
        commandMetadata(request, 'admin', { actorRequired: true }),
      ),
  });
}
