import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EventStore } from '../eventStore/eventStore.ts';
import { boundPageCache } from '../eventStore/sqlite/pageCache.ts';
import type { UserKeys } from '../keys/userKeys.ts';
import { type AuditQuery, auditEvents, auditProjection } from './auditProjection.ts';
import { type AuditRecord, revealAuditRecord, type StoredAuditRecord } from './auditRecord.ts';
import { type ProjectionStatus, readStatuses } from './checkpointStore.ts';
import {
  listNotifications,
  type NotificationPage,
  notificationsProjection,
  revealNotifications,
} from './notificationsProjection.ts';
import { personalDataReader } from './personalData.ts';
import type { Projection } from './projection.ts';
import { ProjectionRunner, type RunnerHealth } from './projectionRunner.ts';
import { acquireRunnerLock, type RunnerLock } from './runnerLock.ts';
import {
  type ListUsersQuery,
  listUsers,
  type UserPage,
  type UsersSummary,
  usersProjection,
  usersSummary,
} from './usersProjection.ts';

export type { AuditQuery } from './auditProjection.ts';
export type { AuditRecord } from './auditRecord.ts';
export type { ProjectionStatus } from './checkpointStore.ts';
export type { Notification, NotificationKind, NotificationPage } from './notificationsProjection.ts';
export type { RunnerHealth } from './projectionRunner.ts';
export type { RunnerFailure } from './runnerFailures.ts';
export { NewerProjectionVersionError, ProjectionFailedError } from './runnerFailures.ts';
export { type LockOwner, ReadModelsLockedError } from './runnerLock.ts';
export type {
  ListUsersQuery,
  UserListFilter,
  UserListItem,
  UserPage,
  UserStatus,
  UsersSummary,
} from './usersProjection.ts';

/** The file, under DATA_DIR, that holds every read model and the checkpoints. */
export const READ_MODELS_FILE = 'read-models.sqlite';

/**
 * The single-writer lock beside a read-model file (`read-models.lock` for the default): a
 * small SQLite database whose write lock the runner holds for its life (see runnerLock.ts).
 */
export const lockFileOf = (fileName: string): string => `${fileName.replace(/\.sqlite$/, '')}.lock`;

/** The projections of this service, in the order they are applied. */
export const PROJECTIONS: readonly Projection[] = [usersProjection, auditProjection, notificationsProjection];

export type ReadModels = {
  /**
   * Takes the single-writer lock (ReadModelsLockedError when another runner holds it),
   * resets projections whose version changed (NewerProjectionVersionError for a version
   * newer than this build's), then catches up and follows the log in the background.
   */
  start(): Promise<void>;
  /** resolves once everything up to the log's head as of `start` is applied */
  caughtUp(): Promise<void>;
  /** whether the read models are caught up (false again after a reset, until caught up again) */
  isCaughtUp(): boolean;
  /** caught up or not, failing since when and why, positions: for readiness and metrics */
  health(): RunnerHealth;
  /** the store answered: a runner waiting to retry after the store failed retries now */
  storeAnswered(): void;
  /** checkpoints as committed and the events after each; changes nothing */
  status(): Promise<ProjectionStatus[]>;
  /** rebuilds one projection (all when no name) from position zero, taking the lock if needed */
  rebuild(name?: string, onProgress?: (applied: number, total: number | null) => void): Promise<void>;
  /** stops following, releases the lock, then closes the database */
  stop(): Promise<void>;
  readonly names: readonly string[];
  /** a page of the admin user list; throws InvalidCursorError or RangeError for bad input */
  listUsers(query: ListUsersQuery): UserPage;
  /** the coverage of "require 2FA" at `nowMs`: seen, enrolled, past their deadline */
  usersSummary(nowMs: number): UsersSummary;
  /** audit records in log order, read page by page */
  auditEvents(query: AuditQuery): AsyncIterable<AuditRecord>;
  /** a page of the notification feed */
  notifications(query: { after?: bigint; limit?: number }): Promise<NotificationPage>;
};

/** `{ dataDir, store, logger? }`; the rest is for tests. */
export type ReadModelsOptions = {
  dataDir: string;
  store: EventStore;
  logger?: Logger;
  /**
   * The users' data keys, to open the personal fields the read models keep sealed; without
   * them those fields read as null.
   */
  keys?: UserKeys;
  /** for tests: another set of projections */
  projections?: readonly Projection[];
  /** most events a transaction; default 500, and 5000 for a rebuild */
  batchSize?: number;
  /** default `read-models.sqlite` */
  fileName?: string;
  /** first wait before retrying after a failure; default 500 ms */
  retryDelayMs?: number;
  /** who takes the lock, as shown to a process it refuses; default `service` */
  role?: string;
  /** told whenever `health()` may have changed */
  onHealthChanged?: () => void;
};

/** Opens (creating if needed) a read-model file as every runner and reader of it does. */
export function openReadModelsFile(dataDir: string, fileName: string): Database.Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, fileName));
  try {
    db.pragma('busy_timeout = 5000');
    boundPageCache(db);
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal')
      throw new Error(`read models: could not switch to WAL (${String(journalMode)})`);
    // NORMAL: in WAL mode a commit is still atomic and the file never corrupt, but a power
    // loss may undo the last few commits. For read models that is a redo, not a loss: each
    // checkpoint commits with its rows, so they go back together, and the runner applies those
    // events again from the log. It saves an fsync per batch, on the disk the log's own
    // commits (acknowledged as durable, so FULL) wait on.
    db.pragma('synchronous = NORMAL');
    // What an erasure clears from a row is overwritten on disk, not left in a free page.
    db.pragma('secure_delete = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** The lock file a runner of `dataDir`/`fileName` takes, with who takes it. */
export const runnerLockOf =
  (dataDir: string, fileName: string, role = 'service') =>
  (): RunnerLock =>
    acquireRunnerLock(join(dataDir, lockFileOf(fileName)), role);

/** The queries of the read models, over `db`; personal fields opened with `keys` when given. */
export function readModelQueries(
  db: Database.Database,
  keys: UserKeys | undefined,
): Pick<ReadModels, 'listUsers' | 'usersSummary' | 'auditEvents' | 'notifications'> {
  // A reader a request: what one request opened is not kept for the next.
  const reader = () => (keys ? personalDataReader(keys) : async () => null);
  async function* revealed(records: AsyncIterable<StoredAuditRecord>): AsyncGenerator<AuditRecord> {
    const read = reader();
    for await (const record of records) yield revealAuditRecord(record, read, keys !== undefined);
  }
  return {
    listUsers: (query) => listUsers(db, query),
    usersSummary: (nowMs) => usersSummary(db, nowMs),
    auditEvents: (query) => revealed(auditEvents(db, query)),
    notifications: (query) => revealNotifications(listNotifications(db, query), reader()),
  };
}

/**
 * Opens (creating if needed) the read models under `dataDir`, changing nothing in them:
 * `start()` (or a `rebuild`) takes the single-writer lock, then empties the projections whose
 * version changed and rebuilds them; queries work on what is there once `start()` returned.
 * The projections run on the calling thread (the command line, tests); the service runs them
 * in a thread of their own (`openReadModelsThread`).
 */
export function openReadModels(options: ReadModelsOptions): ReadModels {
  const fileName = options.fileName ?? READ_MODELS_FILE;
  const db = openReadModelsFile(options.dataDir, fileName);
  let runner: ProjectionRunner;
  try {
    runner = new ProjectionRunner({
      db,
      store: options.store,
      projections: options.projections ?? PROJECTIONS,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
      ...(options.onHealthChanged ? { onHealthChanged: options.onHealthChanged } : {}),
      lock: runnerLockOf(options.dataDir, fileName, options.role),
    });
  } catch (error) {
    db.close();
    throw error;
  }
  let stopped: Promise<void> | null = null;
  return {
    names: runner.names,
    async start() {
      runner.start();
    },
    caughtUp: () => runner.caughtUp(),
    isCaughtUp: () => runner.isCaughtUp(),
    health: () => runner.health(),
    storeAnswered: () => runner.storeAnswered(),
    status: () => runner.status(),
    rebuild: (name, onProgress) => runner.rebuild(name, onProgress),
    stop() {
      stopped ??= (async () => {
        try {
          await runner.stop();
        } finally {
          db.close();
        }
      })();
      return stopped;
    },
    ...readModelQueries(db, options.keys),
  };
}

/**
 * Where each projection under `dataDir` stands, read without changing anything (the file is
 * opened read-only, and not created when missing: everything at zero). Throws
 * StoreUnavailableError when the log cannot be read to count what is behind.
 */
export async function readProjectionStatus(options: {
  dataDir: string;
  store: EventStore;
  projections?: readonly Projection[];
  fileName?: string;
}): Promise<ProjectionStatus[]> {
  const file = join(options.dataDir, options.fileName ?? READ_MODELS_FILE);
  const db = existsSync(file) ? new Database(file, { readonly: true, fileMustExist: true }) : null;
  try {
    db?.pragma('busy_timeout = 5000');
    return await readStatuses(db, options.store, options.projections ?? PROJECTIONS, { strict: true });
  } finally {
    db?.close();
  }
}
