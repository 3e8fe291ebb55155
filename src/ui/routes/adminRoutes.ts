import { z } from 'zod';
import { HttpProblem } from '../../http/problems.ts';
import type { TypedApp } from '../../http/routes/routeDeps.ts';
import { gracePeriodHoursSchema, reasonSchema, userParams } from '../../http/schemas.ts';
import { InvalidCursorError, USER_LIST_FILTERS } from '../../projections/usersProjection.ts';
import { uiCommandMetadata } from '../endUser.ts';
import { administrator, type WebUiDeps } from '../uiContext.ts';

const PAGE = 50;

/** The admin page: the policy, the user list, unlock and the emergency reset. */
export function adminRoutes(app: TypedApp, deps: WebUiDeps): void {
  const admin = (userId: string) => ({ role: 'admin' as const, id: userId });

  app.get('/ui/api/admin/policy', {
    schema: { hide: true },
    handler: async (request) => {
      await administrator(deps, request, { change: false });
      return deps.service.policy();
    },
  });

  app.put('/ui/api/admin/policy', {
    schema: {
      hide: true,
      body: z.strictObject({
        requireTwoFactor: z.boolean(),
        gracePeriodHours: gracePeriodHoursSchema.optional(),
      }),
    },
    handler: async (request) => {
      const { userId } = await administrator(deps, request, { change: true });
      const { requireTwoFactor, gracePeriodHours } = request.body;
      return deps.service.changePolicy(
        requireTwoFactor,
        uiCommandMetadata(request, admin(userId)),
        gracePeriodHours === undefined ? {} : { gracePeriodHours },
      );
    },
  });

  // "Required: N of M seen users enrolled; K past their deadline".
  app.get('/ui/api/admin/users/summary', {
    schema: { hide: true },
    handler: async (request) => {
      await administrator(deps, request, { change: false });
      return deps.usersSummary(deps.clock());
    },
  });

  app.get('/ui/api/admin/users', {
    schema: {
      hide: true,
      querystring: z.strictObject({
        cursor: z.string().max(256).optional(),
        status: z.enum(USER_LIST_FILTERS).optional(),
      }),
    },
    handler: async (request) => {
      await administrator(deps, request, { change: false });
      const { cursor, status } = request.query;
      try {
        return deps.listUsers({
          limit: PAGE,
          nowMs: deps.clock(),
          ...(cursor !== undefined ? { cursor } : {}),
          ...(status !== undefined ? { status } : {}),
        });
      } catch (error) {
        if (error instanceof InvalidCursorError) {
          throw new HttpProblem('invalid-request', 'querystring.cursor: not a cursor of this list');
        }
        throw error;
      }
    },
  });

  app.post('/ui/api/admin/users/:userId/reset', {
    schema: {
      hide: true,
      params: userParams,
      body: z.strictObject({ reason: reasonSchema }),
    },
    handler: async (request) => {
      const { userId } = await administrator(deps, request, { change: true });
      // The API records a reset of a user without 2FA as harmless; here it would only tell the
      // administrator something happened that did not. (A look, not a sighting of the user.)
      const { status } = await deps.service.peekStatus(request.params.userId);
      if (status === 'disabled') {
        throw new HttpProblem(
          'not-enabled',
          `${request.params.userId} has no two-factor authentication to reset: it is already off`,
          { title: 'Nothing to reset' },
        );
      }
      return deps.service.reset(
        request.params.userId,
        request.body.reason,
        uiCommandMetadata(request, admin(userId)),
      );
    },
  });

  app.post('/ui/api/admin/users/:userId/unlock', {
    schema: { hide: true, params: userParams, body: z.strictObject({}).nullish() },
    handler: async (request) => {
      const { userId } = await administrator(deps, request, { change: true });
      return deps.service.unlock(request.params.userId, uiCommandMetadata(request, admin(userId)));
    },
  });
}
