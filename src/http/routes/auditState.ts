import { z } from 'zod';
import { problemResponses, statusDocument, userParams } from '../schemas.ts';
import type { RouteDeps, TypedApp } from './routeDeps.ts';

/** A user's status at a past moment, rebuilt from the history (role `audit`). */
export function auditStateRoutes(app: TypedApp, { service, requireRole }: RouteDeps): void {
  app.get('/v1/audit/users/:userId/two-factor', {
    onRequest: requireRole('audit'),
    schema: {
      tags: ['audit'],
      security: [{ apiKey: [] }],
      summary: "A user's 2FA status as it stood at a past moment, folded from the events up to it",
      params: userParams,
      querystring: z.object({
        at: z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2026-01-31T12:00:00Z'),
      }),
      response: { 200: statusDocument, ...problemResponses(400, 401, 403, 503) },
    },
    handler: async (request) => service.statusAt(request.params.userId, Date.parse(request.query.at)),
  });
}
