import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { createRuntime, type Runtime, storeLocation } from './composition.ts';
import { type Config, ConfigError } from './config/config.ts';
import { developmentOrigins } from './config/publicUrl.ts';
import { proxyTrust } from './config/trustProxy.ts';
import type { WorkLimiterOptions } from './crypto/workLimiter.ts';
import type { DigestParameters } from './domain/twoFactor/recoveryCodes.ts';
import { buildApp } from './http/app.ts';
import { readModelRoutes } from './http/routes/readModels.ts';
import { usersByKeyIdInLog } from './keyCheckSample.ts';
import type { Metrics } from './observability/metrics.ts';
import type { ReadModels } from './projections/readModels.ts';
import { openReadModelsThread } from './projections/readModelsThread.ts';
import { registerWebUi } from './ui/webUi.ts';

export type Server = {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  /** the local read models (admin user list, audit, notifications), following the log */
  readonly readModels: ReadModels;
  /** http://host:port actually bound (port 0 picks a free one) */
  readonly url: string;
  /**
   * Stops accepting, lets requests in flight finish (for up to the grace period; then their
   * connections are closed), stops the projections, then closes the store.
   */
  stop(): Promise<void>;
};

export type ServerOptions = {
  readonly clock?: () => number;
  readonly digestParameters?: DigestParameters;
  readonly argon2Limits?: WorkLimiterOptions;
  /**
   * Whether the start-up check opens a sample of stored secrets with the configured keys;
   * default true. Off only to see what a user the sample missed meets.
   */
  readonly checkKeysAtStart?: boolean;
  /**
   * How long `stop()` waits for requests in flight (a slow client reading a long audit export)
   * before closing their connections; default 10 s.
   */
  readonly shutdownGraceMs?: number;
  /**
   * How long the projection runner may keep failing (retrying) before readiness turns 503;
   * default 30 s. Short outages are ridden out without taking the instance out of rotation.
   */
  readonly projectionFailureToleranceMs?: number;
};

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const DEFAULT_PROJECTION_FAILURE_TOLERANCE_MS = 30_000;

/** `twofactor_projection_position{projection}` and `twofactor_projection_failures_total`, read when scraped. */
function registerProjectionMetrics(metrics: Metrics, readModels: ReadModels): void {
  new Gauge({
    name: 'twofactor_projection_position',
    help: 'Log position each projection has applied up to (its checkpoint)',
    labelNames: ['projection'] as const,
    registers: [metrics.registry],
    collect() {
      for (const { name, position } of readModels.health().positions) {
        this.set({ projection: name }, Number(position));
      }
    },
  });
  let reported = 0;
  new Counter({
    name: 'twofactor_projection_failures_total',
    help: 'Times the projection runner failed (the store did not answer, a projection threw) and retried',
    registers: [metrics.registry],
    collect() {
      const failures = readModels.health().failures;
      if (failures > reported) this.inc(failures - reported);
      reported = failures;
    },
  });
}

/** How many users' stored secrets are opened at start to prove the configured keys. */
export const KEY_CHECK_SAMPLE = 25;
/** How far into the log the start-up check looks for the key ids secrets were sealed with. */
export const KEY_CHECK_LOG_EVENTS = 10_000;

/**
 * Refuses to start when the configured keys cannot open a sample of stored secrets (a key
 * left out of SECRET_ENCRYPTION_KEYS, or replaced by another under the same id): better a
 * clear message now than every sign-in of those users failing later. The sample: users from
 * the read models, and a user of each key id the log's oldest events name (the read models
 * may still be empty on a new instance); a user whose data no longer needs a key is fine.
 */
async function refuseUnusableKeys(
  runtime: Runtime,
  readModels: ReadModels,
  dataDir: string,
  nowMs: number,
): Promise<void> {
  const sample = new Set([
    ...readModels.listUsers({ status: 'enabled', limit: KEY_CHECK_SAMPLE, nowMs }).users.map((u) => u.userId),
    ...readModels.listUsers({ status: 'pending', limit: 5, nowMs }).users.map((u) => u.userId),
    ...(await usersByKeyIdInLog(runtime.store, dataDir, KEY_CHECK_LOG_EVENTS)),
  ]);
  const unusable = new Set<string>();
  for (const userId of sample) {
    for (const keyId of (await runtime.service.keyUse(userId)).unusable) unusable.add(keyId);
  }
  if (unusable.size > 0) {
    throw new ConfigError(
      `stored secrets cannot be opened with the configured keys: key ${[...unusable].join(', ')} ` +
        'is missing from SECRET_ENCRYPTION_KEYS (or is not the key it names)',
    );
  }
}

/** The service assembled (runtime, read models, HTTP app with its routes) but not started. */
export type AssembledServer = {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly readModels: ReadModels;
  /** stops the read models, then closes the runtime (the app is the caller's to close first) */
  close(): Promise<void>;
};

/**
 * Wires the runtime into the HTTP app without starting anything: no projection runs, no port
 * is bound. `startServer` starts it; tests that need no socket `inject` into its app.
 */
export async function assembleServer(
  config: Config,
  logger: Logger,
  options: ServerOptions = {},
): Promise<AssembledServer> {
  const runtime = await createRuntime(config, logger, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.digestParameters ? { digestParameters: options.digestParameters } : {}),
    ...(options.argon2Limits ? { argon2Limits: options.argon2Limits } : {}),
  });
  const clock = options.clock ?? Date.now;
  const failureToleranceMs = options.projectionFailureToleranceMs ?? DEFAULT_PROJECTION_FAILURE_TOLERANCE_MS;
  let readModels: ReadModels;
  try {
    // The projections run in a thread of their own, with their own connection to the log.
    readModels = openReadModelsThread({
      dataDir: config.dataDir,
      store: runtime.store,
      location: storeLocation(config),
      keys: runtime.keys,
      logger,
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const closeAll = async () => {
    await readModels.stop();
    await runtime.close();
  };
  // Keys stored data needs and the configuration lacks, as met at sign-in: for readiness.
  const missingKeys = new Set<string>();
  let app: FastifyInstance;
  try {
    registerProjectionMetrics(runtime.metrics, readModels);
    app = await buildApp({
      service: runtime.service,
      apiKeys: runtime.apiKeys,
      logger,
      metrics: runtime.metrics,
      throttleFailuresPerMinute: config.throttleFailuresPerMinute,
      ...(config.trustProxy.kind === 'none' ? {} : { trustProxy: proxyTrust(config.trustProxy) }),
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      ...(options.clock ? { clock: options.clock } : {}),
      readModelRoutes: readModelRoutes(readModels, clock),
      onKeyUnavailable: (keyId) => missingKeys.add(keyId),
      readiness: async () => {
        try {
          await runtime.store.ping();
        } catch {
          return { ready: false, detail: 'the event store is unavailable' };
        }
        readModels.storeAnswered();
        const health = readModels.health();
        // Wall-clock time: the injected clock is the domain's (TOTP steps), not the runner's.
        if (health.failing !== null && Date.now() - health.failing.since >= failureToleranceMs) {
          const seconds = Math.floor((Date.now() - health.failing.since) / 1000);
          return {
            ready: false,
            detail: `the read models have been failing for ${seconds} s and are retrying: ${health.failing.reason}`,
          };
        }
        if (!health.caughtUp) {
          return { ready: false, detail: 'the read models are catching up with the event log' };
        }
        // Reported, not failed: every instance shares the configuration, and taking them all out
        // of rotation would deny every user for what denies only those whose secrets need the key.
        const keys =
          missingKeys.size === 0
            ? ''
            : `; but stored secrets need keys that are not configured (${[...missingKeys].join(', ')}): add them to SECRET_ENCRYPTION_KEYS`;
        return { ready: true, detail: `the event store answers and the read models have caught up${keys}` };
      },
    });
    if (config.uiEnabled) {
      const server = app.server;
      await registerWebUi(app, {
        service: runtime.service,
        listUsers: (query) => readModels.listUsers(query),
        usersSummary: (nowMs) => readModels.usersSummary(nowMs),
        clock,
        admins: config.uiAdmins,
        productName: config.issuer,
        throttleFailuresPerMinute: config.throttleFailuresPerMinute,
        // Without PUBLIC_URL (development), this machine's origins on the port actually bound.
        origins: () =>
          config.publicUrl !== null
            ? [config.publicUrl]
            : developmentOrigins((server.address() as AddressInfo | null)?.port ?? config.port),
        secure: config.publicUrl?.startsWith('https:') ?? false,
        firstStep:
          config.uiSignIn.kind === 'trusted-header'
            ? {
                kind: 'trusted-header',
                header: config.uiSignIn.header,
                trusted: proxyTrust(config.trustProxy),
              }
            : { kind: 'demo', banner: config.production },
      });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return { app, runtime, readModels, close: closeAll };
}

/** Assembles the service, starts its read models, checks its keys and listens; shared by `main.ts` and the end-to-end tests. */
export async function startServer(
  config: Config,
  logger: Logger,
  options: ServerOptions = {},
): Promise<Server> {
  const { app, runtime, readModels, close: closeAll } = await assembleServer(config, logger, options);
  const clock = options.clock ?? Date.now;
  const shutdownGraceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
  let address: string;
  try {
    // Takes the read models' single-writer lock: a second instance on the same DATA_DIR, or a
    // rebuild from the command line in progress, stops the start here with a clear message.
    // The catch-up itself runs in the background: readiness says when it is done.
    await readModels.start();
    if (options.checkKeysAtStart !== false)
      await refuseUnusableKeys(runtime, readModels, config.dataDir, clock());
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
        const closing = app.close();
        let timer: NodeJS.Timeout | undefined;
        const inTime = await Promise.race([
          closing.then(() => true),
          new Promise<false>((resolve) => {
            timer = setTimeout(() => resolve(false), shutdownGraceMs);
          }),
        ]);
        clearTimeout(timer);
        if (!inTime) {
          // A client that stopped reading (a stalled audit export) would hold the stop forever.
          logger.warn(
            { graceMs: shutdownGraceMs },
            'requests still in flight after the grace period: closing their connections',
          );
          app.server.closeAllConnections();
          await closing;
        }
        // Before the store: the runner's subscription reads from it until it is stopped.
        await closeAll();
      })();
      return stopped;
    },
  };
}
