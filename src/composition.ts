import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { createTwoFactorService, type TwoFactorService } from './application/twoFactorService.ts';
import type { ApiKey } from './config/apiKeys.ts';
import type { Config } from './config/config.ts';
import { loadOrCreateDevelopmentCredentials } from './config/developmentCredentials.ts';
import { createPepperRing } from './crypto/pepper.ts';
import { createRecoveryCodeHasher } from './crypto/recoveryCodeHasher.ts';
import type { EncryptionKey } from './crypto/secretBox.ts';
import { argon2Limits, createWorkLimiter, type WorkLimiterOptions } from './crypto/workLimiter.ts';
import type { DigestParameters } from './domain/twoFactor/recoveryCodes.ts';
import type { EventStore } from './eventStore/eventStore.ts';
import { openSqliteEventStore } from './eventStore/sqlite/sqliteEventStore.ts';
import type { StoreLocation } from './eventStore/storeLocation.ts';
import type { KeyStore } from './keys/keyStore.ts';
import { openSqliteKeyStore } from './keys/sqliteKeyStore.ts';
import { createUserKeys, type UserKeys } from './keys/userKeys.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { openSqliteSnapshotStore } from './snapshots/sqliteSnapshotStore.ts';

export type Runtime = {
  readonly store: EventStore;
  readonly service: TwoFactorService;
  readonly apiKeys: readonly ApiKey[];
  readonly encryptionKeys: readonly EncryptionKey[] | null;
  /** the users' data keys, wrapped by `encryptionKeys` */
  readonly keys: UserKeys;
  readonly metrics: Metrics;
  close(): Promise<void>;
};

/** Where the configured event log is, for a thread that opens its own connection to it. */
export function storeLocation(config: Config): StoreLocation {
  return config.eventStoreConnectionString
    ? { kind: 'esdb', connectionString: config.eventStoreConnectionString }
    : { kind: 'sqlite', dataDir: config.dataDir };
}

/*
 * The EventStoreDB adapters are imported only when a connection string is configured: the
 * client and its gRPC stack took about a tenth of every start and most of a megabyte of code
 * that the embedded store never runs.
 */

/** The configured event store: EventStoreDB when a connection string is set, else embedded SQLite. */
export async function openEventStore(config: Config): Promise<EventStore> {
  if (config.eventStoreConnectionString === null) return openSqliteEventStore({ dataDir: config.dataDir });
  const { openEsdbEventStore } = await import('./eventStore/esdb/esdbEventStore.ts');
  return openEsdbEventStore(config.eventStoreConnectionString);
}

/** Where the users' data keys live: beside the events, in the same kind of store. */
export async function openKeyStore(config: Config): Promise<KeyStore> {
  if (config.eventStoreConnectionString === null) return openSqliteKeyStore(config.dataDir);
  const { openEsdbKeyStore } = await import('./keys/esdbKeyStore.ts');
  return openEsdbKeyStore(config.eventStoreConnectionString);
}

/**
 * Keys from the configuration, or in development the ones kept under DATA_DIR (whose file
 * paths, never contents, are logged). The service generates missing development keys; the
 * command line (`generate: false`) only reads them, and needs neither: it serves no API and
 * seals or opens no secret.
 */
export function resolveCredentials(config: Config, logger: Logger, { generate = true } = {}) {
  if (config.apiKeys && config.encryptionKeys) {
    return { apiKeys: config.apiKeys, encryptionKeys: config.encryptionKeys };
  }
  const kept = loadOrCreateDevelopmentCredentials(config.dataDir, { create: generate });
  if (generate && !config.apiKeys) {
    logger.warn({ file: kept.files.apiKeys }, 'API_KEYS not set: using development keys from file');
  }
  if (generate && !config.encryptionKeys) {
    logger.warn(
      { file: kept.files.encryptionKeys },
      'SECRET_ENCRYPTION_KEYS not set: using development key from file',
    );
  }
  return {
    apiKeys: config.apiKeys ?? kept.apiKeys ?? [],
    encryptionKeys: config.encryptionKeys ?? kept.encryptionKeys,
  };
}

/**
 * Everything written under DATA_DIR — events with sealed secrets and recovery-code digests,
 * snapshots, read models, development keys — is for this service's user alone.
 */
export function prepareDataDir(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export async function createRuntime(
  config: Config,
  logger: Logger,
  options: {
    readonly clock?: () => number;
    readonly digestParameters?: DigestParameters;
    /** concurrent argon2 computations and the longest wait of a check; default: sized to the machine */
    readonly argon2Limits?: WorkLimiterOptions;
    /** false for the command line: read development keys that exist, never make new ones */
    readonly generateCredentials?: boolean;
  } = {},
): Promise<Runtime> {
  prepareDataDir(config.dataDir);
  const { apiKeys, encryptionKeys } = resolveCredentials(config, logger, {
    generate: options.generateCredentials ?? true,
  });
  const store = await openEventStore(config);
  const snapshots = openSqliteSnapshotStore(config.dataDir);
  const keys = createUserKeys(await openKeyStore(config), encryptionKeys);
  const metrics = createMetrics();
  const service = createTwoFactorService({
    store,
    snapshots,
    keys,
    hasher: createRecoveryCodeHasher(options.digestParameters, {
      limiter: createWorkLimiter(options.argon2Limits ?? argon2Limits()),
      ...(encryptionKeys ? { peppers: createPepperRing(encryptionKeys) } : {}),
      acceptUnpeppered: config.acceptUnpepperedRecoveryCodes,
    }),
    clock: options.clock ?? Date.now,
    issuer: config.issuer,
    onAppended: metrics.observeEvents,
    onBackgroundError: (error) =>
      logger.warn({ err: error }, 'counted refusals not recorded yet; kept and tried again'),
    repository: {
      onSnapshotError: (error) =>
        logger.warn({ err: error }, 'snapshot not saved; loading goes on from the log'),
    },
  });
  return {
    store,
    service,
    apiKeys,
    encryptionKeys,
    keys,
    metrics,
    async close() {
      // Refusals still counted in memory are recorded while the store is open.
      await service.close();
      await store.close();
      await keys.store.close();
      snapshots.close();
    },
  };
}
