import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRuntime, type Runtime } from './composition.ts';
import type { Config } from './config/config.ts';
import type { DigestParameters } from './domain/twoFactor/recoveryCodes.ts';
import { buildApp } from './http/app.ts';
import { readModelRoutes } from './http/routes/readModels.ts';
import { openReadModels, type ReadModels } from './projections/readModels.ts';

export type Server = {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  /** the local read models (admin user list, audit, notifications), following the log */
  readonly readModels: ReadModels;
  /** http://host:port actually bound (port 0 picks a free one) */
  readonly url: string;
  /** stops accepting, lets requests in flight finish, stops the projections, then closes the store */
  stop(): Promise<void>;
};

/** Wires the runtime into the HTTP app and listens; shared by `main.ts` and the end-to-end tests. */
export async function startServer(
  config: Config,
  logger: Logger,
  options: { readonly clock?: () => number; readonly digestParameters?: DigestParameters } = {},
): Promise<Server> {
  const runtime = createRuntime(config, logger, options);
  const clock = options.clock ?? Date.now;
  let readModels: ReadModels;
  try {
    readModels = openReadModels({ dataDir: config.dataDir, store: runtime.store, logger });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const closeAll = async () => {
    await readModels.stop();
    await runtime.close();
  };
  let app: FastifyInstance;
  try {
    app = await buildApp({
      service: runtime.service,
      apiKeys: runtime.apiKeys,
      logger,
      metrics: runtime.metrics,
      rateLimitPerMinute: config.rateLimitPerMinute,
      ...(options.clock ? { clock: options.clock } : {}),
      readModelRoutes: readModelRoutes(readModels, clock),
      readiness: async () => {
        try {
          await runtime.store.ping();
        } catch {
          return { ready: false, detail: 'the event store is unavailable' };
        }
        if (!readModels.isCaughtUp()) {
          return { ready: false, detail: 'the read models are catching up with the event log' };
        }
        return { ready: true, detail: 'the event store answers and the read models have caught up' };
      },
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  // In the background: a long catch-up must not delay listening; readiness says when it is done.
  await readModels.start();
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    await closeAll();
    throw error;
  }
  let stopped: Promise<void> | null = null;
  return {
    app,
    runtime,
    readModels,
    url: address,
    stop() {
      stopped ??= (async () => {
        await app.close();
        // Before the store: the runner's subscription reads from it until it is stopped.
        await closeAll();
      })();
      return stopped;
    },
  };
}
