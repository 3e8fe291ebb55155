import { hostname } from 'node:os';
import Database from 'better-sqlite3';

/** Who holds the read models: shown to whoever is refused. */
export type LockOwner = {
  /** `service` (the HTTP service) or `command line` (`twofactor projections rebuild`) */
  readonly role: string;
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the lock was taken */
  readonly since: string;
};

/** Another runner (the service, or a rebuild from the command line) writes these read models. */
export class ReadModelsLockedError extends Error {
  override readonly name = 'ReadModelsLockedError';
  constructor(
    readonly file: string,
    readonly owner: LockOwner | null,
  ) {
    super(ReadModelsLockedError.describe(file, owner));
  }

  static describe(file: string, owner: LockOwner | null): string {
    if (owner === null) return `the read models are in use by another process (lock ${file}): stop it first`;
    const who = `(pid ${owner.pid} on ${owner.hostname}, since ${owner.since})`;
    return owner.role === 'service'
      ? `the service ${who} is running: stop it first (it holds ${file})`
      : `a ${owner.role} ${who} is writing the read models: wait for it to finish (it holds ${file})`;
  }
}

export type RunnerLock = {
  readonly owner: LockOwner;
  release(): void;
};

type OwnerRow = { role: string; pid: number; hostname: string; since: string };

/**
 * The single-writer lock of a read-model file: at most one runner (the service, or a rebuild
 * from the command line) folds events into it at a time, for the runner's whole life.
 *
 * The lock is SQLite's own write lock on a small database beside the read models, held by an
 * open `BEGIN IMMEDIATE` transaction that is never committed. The operating system drops it
 * when the process ends in any way (SIGKILL and crashes included), so a dead owner never
 * locks anyone out and there is nothing stale to detect; SQLite arbitrates between the
 * connections of one process too. Who holds it (role, pid, host, since) is committed in the
 * same file just before, so a refused process can say who to stop.
 */
export function acquireRunnerLock(file: string, role: string): RunnerLock {
  const db = new Database(file, { timeout: 0 });
  // The owner row only names who holds the lock, and the lock itself is the OS's: its writes
  // need no fsync, which cost a start several disk flushes.
  db.pragma('synchronous = OFF');
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS owner (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      role TEXT NOT NULL,
      pid INTEGER NOT NULL,
      hostname TEXT NOT NULL,
      since TEXT NOT NULL
    )`);
  } catch (error) {
    db.close();
    if (isBusy(error)) throw new ReadModelsLockedError(file, readOwner(file));
    throw error;
  }
  const owner: LockOwner = { role, pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
  const begin = () => {
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (isBusy(error)) {
        db.close();
        throw new ReadModelsLockedError(file, readOwner(file));
      }
      throw error;
    }
  };
  try {
    begin();
    db.prepare(
      `INSERT INTO owner (id, role, pid, hostname, since) VALUES (1, @role, @pid, @hostname, @since)
       ON CONFLICT (id) DO UPDATE SET role = excluded.role, pid = excluded.pid,
         hostname = excluded.hostname, since = excluded.since`,
    ).run(owner);
    db.exec('COMMIT');
    // Held from here on. Another process may have slipped in between the commit and this
    // begin; then it holds the lock (and has written itself as the owner) and this one is refused.
    begin();
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
  let released = false;
  return {
    owner,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

/** The owner as last committed, or null when it cannot be read at once. */
function readOwner(file: string): LockOwner | null {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 1000 });
    const row = db.prepare<[], OwnerRow>('SELECT role, pid, hostname, since FROM owner WHERE id = 1').get();
    return row ?? null;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

const isBusy = (error: unknown): boolean =>
  error instanceof Database.SqliteError && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED');
