import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRuntime, type Runtime } from './composition.ts';
import type { Config } from './config/config.ts';
import type { DigestParameters } from './domain/twoFactor/recoveryCodes.ts';
import { buildApp } from './http/app.ts';

export type Server = {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  /** http://host:port actually bound (port 0 picks a free one) */
  readonly url: string;
  /** stops accepting, lets requests in flight finish, then closes the store */
  stop(): Promise<void>;
};

/** Wires the runtime into the HTTP app and listens; shared by `main.ts` and the end-to-end tests. */
export async function startServer(
  config: Config,
  logger: Logger,
  options: { readonly clock?: () => number; readonly digestParameters?: DigestParameters } = {},
): Promise<Server> {
  const runtime = createRuntime(config, logger, options);
  const app = await buildApp({
    service: runtime.service,
    apiKeys: runtime.apiKeys,
    logger,
    metrics: runtime.metrics,
    rateLimitPerMinute: config.rateLimitPerMinute,
    ...(options.clock ? { clock: options.clock } : {}),
    readiness: async () => {
      try {
        await runtime.store.ping();
        return { ready: true, detail: 'the event store answers' };
      } catch {
        return { ready: false, detail: 'the event store is unavailable' };
      }
    },
  });
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  let stopped: Promise<void> | null = null;
  return {
    app,
    runtime,
    url: address,
    stop() {
      stopped ??= (async () => {
        await app.close();
        await runtime.close();
      })();
      return stopped;
    },
  };
}
