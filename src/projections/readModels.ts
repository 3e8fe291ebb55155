import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { EventStore } from '../eventStore/eventStore.ts';
import { type AuditQuery, auditEvents, auditProjection } from './auditProjection.ts';
import type { AuditRecord } from './auditRecord.ts';
import {
  listNotifications,
  type NotificationPage,
  notificationsProjection,
} from './notificationsProjection.ts';
import type { Projection } from './projection.ts';
import { ProjectionRunner, type ProjectionStatus } from './projectionRunner.ts';
import { type ListUsersQuery, listUsers, type UserPage, usersProjection } from './usersProjection.ts';

export type { AuditQuery } from './auditProjection.ts';
export type { AuditRecord } from './auditRecord.ts';
export type { Notification, NotificationKind, NotificationPage } from './notificationsProjection.ts';
export type { ProjectionStatus } from './projectionRunner.ts';
export type { ListUsersQuery, UserListItem, UserPage, UserStatus } from './usersProjection.ts';

/** The file, under DATA_DIR, that holds every read model and the checkpoints. */
export const READ_MODELS_FILE = 'read-models.sqlite';

/** The projections of this service, in the order they are applied. */
export const PROJECTIONS: readonly Projection[] = [usersProjection, auditProjection, notificationsProjection];

export type ReadModels = {
  /** catches up and follows the log in the background; returns at once */
  start(): Promise<void>;
  /** resolves once everything up to the log's head as of `start` is applied */
  caughtUp(): Promise<void>;
  /** whether `caughtUp` has resolved (for readiness) */
  isCaughtUp(): boolean;
  status(): Promise<ProjectionStatus[]>;
  /** rebuilds one projection (all when no name) from position zero */
  rebuild(name?: string, onProgress?: (applied: number, total: number | null) => void): Promise<void>;
  /** stops following, then closes the database */
  stop(): Promise<void>;
  readonly names: readonly string[];
  /** a page of the admin user list; throws InvalidCursorError or RangeError for bad input */
  listUsers(query: ListUsersQuery): UserPage;
  /** audit records in log order, read page by page */
  auditEvents(query: AuditQuery): AsyncIterable<AuditRecord>;
  /** a page of the notification feed */
  notifications(query: { after?: bigint; limit?: number }): NotificationPage;
};

/** `{ dataDir, store, logger? }`; the rest is for tests. */
export type ReadModelsOptions = {
  dataDir: string;
  store: EventStore;
  logger?: Logger;
  /** for tests: another set of projections */
  projections?: readonly Projection[];
  /** most events a transaction; default 500 */
  batchSize?: number;
  /** default `read-models.sqlite` */
  fileName?: string;
  /** first wait before retrying after a failure; default 500 ms */
  retryDelayMs?: number;
};

/**
 * Opens (creating if needed) the read models under `dataDir`. Projections whose version
 * changed are emptied here and rebuilt by `start()`; queries work at once on what is there.
 */
export function openReadModels(options: ReadModelsOptions): ReadModels {
  mkdirSync(options.dataDir, { recursive: true });
  const db = new Database(join(options.dataDir, options.fileName ?? READ_MODELS_FILE));
  let runner: ProjectionRunner;
  try {
    db.pragma('busy_timeout = 5000');
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal')
      throw new Error(`read models: could not switch to WAL (${String(journalMode)})`);
    // FULL: a checkpoint acknowledged by a commit must survive a power loss with its rows.
    db.pragma('synchronous = FULL');
    runner = new ProjectionRunner({
      db,
      store: options.store,
      projections: options.projections ?? PROJECTIONS,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
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
    listUsers: (query) => listUsers(db, query),
    auditEvents: (query) => ({ [Symbol.asyncIterator]: () => auditEvents(db, query) }),
    notifications: (query) => listNotifications(db, query),
  };
}
