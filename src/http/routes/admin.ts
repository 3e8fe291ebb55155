import { z } from 'zod';
import { commandMetadata } from '../requestContext.ts';
import {
  gracePeriodHoursSchema,
  policyDocument,
  problemResponses,
  reasonSchema,
  statusDocument,
  userParams,
} from '../schemas.ts';
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
        "Destroys the user's data key, then records UserErased (who, when, why; no personal data). Afterwards the user's TOTP secret, recovery-code pepper, end-user addresses, user agents, the ids the web API acted for (X-Actor-Id of role web) and the reasons of administrators' resets cannot be opened by anyone; 2FA reads disabled; the history still replays and verifies, with every record's personal fields marked erased (personalDataErased). The user id itself stays: it names the user's event stream and is in every event, so user ids should be opaque, not e-mail addresses (`retained` says so). A later enrollment of the same user id starts with a fresh data key; until then nothing recorded about the user makes one. Works in any state, and again on an erased user. Events written before their fields were sealed are out of its reach: `retained` names those fields, and `eventsWrittenBeforeDataKeys` counts events with plain-text addresses or agents.",
      params: userParams,
      headers: actorHeader,
      body: z.strictObject({ reason: reasonSchema }),
      response: {
        200: z.object({
          status: z.literal('disabled'),
          erased: z.literal(true),
          retained: z
            .array(
              z.enum([
                'userId',
                'authenticatorName',
                'endUserIp',
                'endUserAgent',
                'actorId',
                'endUserIps',
                'reason',
              ]),
            )
            .describe(
              'What no key’s destruction reaches and stays readable: always `userId` (the user id names the user’s event stream and is in every event — use opaque ids, not e-mail addresses); `authenticatorName` when the user named an authenticator app (names are labels kept readable in the history); and any kind of personal field that events written before it was sealed hold in plain text (events are never rewritten)',
            ),
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
      summary: 'Require (or stop requiring) 2FA for all users, with a grace period',
      description:
        "A user without 2FA must enroll by `max(requiredSince, when the service first saw them while 2FA was required) + gracePeriodHours`. The first sight (a status read, a sign-in attempt, an enrollment start) is recorded once per user and period; deadlines are computed from it and the policy in force, so changing the grace recomputes every open deadline, shortening included, and a reset user's deadline is the reset (no grace). Setting the requirement while it is on continues its period; turning it off and on again starts a new period, in which everyone is first seen afresh. `gracePeriodHours` defaults to 0.",
      headers: actorHeader,
      body: z.strictObject({
        requireTwoFactor: z.boolean(),
        gracePeriodHours: gracePeriodHoursSchema.default(0),
      }),
      response: { 200: policyDocument, ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) =>
      service.changePolicy(
        request.body.requireTwoFactor,
        commandMetadata(request, 'admin', { actorRequired: true }),
        { gracePeriodHours: request.body.gracePeriodHours },
      ),
  });
}
