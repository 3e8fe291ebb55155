import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { createTwoFactorService, type TwoFactorService } from './application/twoFactorService.ts';
import type { ApiKey } from './config/apiKeys.ts';
import type { Config } from './config/config.ts';
import { loadOrCreateDevelopmentCredentials } from './config/developmentCredentials.ts';
import { createRecoveryCodeHasher } from './crypto/recoveryCodeHasher.ts';
import { createSecretBox, type EncryptionKey } from './crypto/secretBox.ts';
import type { DigestParameters } from './domain/twoFactor/recoveryCodes.ts';
import { openEsdbEventStore } from './eventStore/esdb/esdbEventStore.ts';
import type { EventStore } from './eventStore/eventStore.ts';
import { openSqliteEventStore } from './eventStore/sqlite/sqliteEventStore.ts';
import { createMetrics, type Metrics } from './http/metrics.ts';
import { openSqliteSnapshotStore } from './snapshots/sqliteSnapshotStore.ts';

export type Runtime = {
  readonly store: EventStore;
  readonly service: TwoFactorService;
  readonly apiKeys: readonly ApiKey[];
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly metrics: Metrics;
  close(): Promise<void>;
};

/** The configured event store: EventStoreDB when a connection string is set, else embedded SQLite. */
export function openEventStore(config: Config): EventStore {
  return config.eventStoreConnectionString
    ? openEsdbEventStore(config.eventStoreConnectionString)
    : openSqliteEventStore({ dataDir: config.dataDir });
}

/**
 * Keys from the configuration, or in development the ones generated under DATA_DIR (whose
 * file paths, never contents, are logged).
 */
export function resolveCredentials(config: Config, logger: Logger) {
  if (config.apiKeys && config.encryptionKeys) {
    return { apiKeys: config.apiKeys, encryptionKeys: config.encryptionKeys };
  }
  const generated = loadOrCreateDevelopmentCredentials(config.dataDir);
  if (!config.apiKeys)
    logger.warn({ file: generated.files.apiKeys }, 'API_KEYS not set: using development keys from file');
  if (!config.encryptionKeys) {
    logger.warn(
      { file: generated.files.encryptionKeys },
      'SECRET_ENCRYPTION_KEYS not set: using development key from file',
    );
  }
  return {
    apiKeys: config.apiKeys ?? generated.apiKeys,
    encryptionKeys: config.encryptionKeys ?? generated.encryptionKeys,
  };
}

/** Everything the HTTP service and the command line share, wired from the configuration. */
/**
 * Everything written under DATA_DIR — events with sealed secrets and recovery-code digests,
 * snapshots, read models, development keys — is for this service's user alone.
 */
export function prepareDataDir(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export function createRuntime(
  config: Config,
  logger: Logger,
  options: { readonly clock?: () => number; readonly digestParameters?: DigestParameters } = {},
): Runtime {
  prepareDataDir(config.dataDir);
  const { apiKeys, encryptionKeys } = resolveCredentials(config, logger);
  const store = openEventStore(config);
  const snapshots = openSqliteSnapshotStore(config.dataDir);
  const metrics = createMetrics();
  const service = createTwoFactorService({
    store,
    snapshots,
    secretBox: createSecretBox(encryptionKeys),
    hasher: createRecoveryCodeHasher(options.digestParameters),
    clock: options.clock ?? Date.now,
    issuer: config.issuer,
    onAppended: metrics.observeEvents,
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
    metrics,
    async close() {
      await store.close();
      snapshots.close();
    },
  };
}
