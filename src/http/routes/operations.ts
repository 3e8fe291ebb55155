import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import type { TypedApp } from './routeDeps.ts';

/** Health and metrics: no key, for load balancers and Prometheus. */
export function operationsRoutes(app: TypedApp, deps: Pick<AppDeps, 'metrics' | 'readiness'>): void {
  const tags = ['operations'];
  const health = z.object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() });

  app.get('/health/live', {
    schema: { tags, summary: 'The process answers', response: { 200: health } },
    handler: async () => ({ status: 'ok' as const }),
  });

  app.get('/health/ready', {
    schema: {
      tags,
      summary: 'The store answers and the read models have caught up',
      response: { 200: health, 503: health },
    },
    handler: async (_request, reply) => {
      const { ready, detail } = await deps.readiness();
      reply.status(ready ? 200 : 503);
      return { status: ready ? ('ok' as const) : ('unavailable' as const), detail };
    },
  });

  app.get('/metrics', {
    schema: { tags, summary: 'Prometheus metrics', hide: false },
    handler: async (_request, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  });
}
