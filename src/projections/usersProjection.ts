import type Database from 'better-sqlite3';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { isLocked, noLockout } from '../domain/twoFactor/lockout.ts';
import { statusName, type TwoFactorStatusName } from '../domain/twoFactor/state.ts';
import { isUserId } from '../domain/twoFactor/userId.ts';
import { isTwoFactorEvent, unhandled } from './eventData.ts';
import { pageLimit } from './pageLimit.ts';
import type { Projection } from './projection.ts';
import { EventFailedError } from './runnerFailures.ts';
import { cached } from './statementCache.ts';

export type UserStatus = TwoFactorStatusName;

export type UserListItem = {
  readonly userId: string;
  readonly status: UserStatus;
  readonly enabledAt: string | null;
  readonly recoveryCodesRemaining: number;
  readonly locked: boolean;
};

export type ListUsersQuery = {
  readonly status?: UserStatus;
  /** 1..500, default 100 */
  readonly limit?: number;
  /** `nextCursor` of the previous page */
  readonly cursor?: string;
  /** the time statuses are computed at: a pending enrollment expires, a lock runs out */
  readonly nowMs: number;
};

export type UserPage = { readonly users: UserListItem[]; readonly nextCursor: string | null };

export const USERS_PAGE_DEFAULT = 100;
export const USERS_PAGE_MAX = 500;

/** Thrown for a cursor this service did not hand out. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** Opaque to clients: the base64url of the last user id of the page. */
export const encodeUserCursor = (userId: string): string => Buffer.from(userId, 'utf8').toString('base64url');

export function decodeUserCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor))
    throw new InvalidCursorError('cursor: not a cursor of this list');
  const userId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isUserId(userId) || encodeUserCursor(userId) !== cursor) {
    throw new InvalidCursorError('cursor: not a cursor of this list');
  }
  return userId;
}

type Row = {
  user_id: string;
  enabled: number;
  enabled_at: string | null;
  pending_expires_at_ms: number | null;
  recovery_codes_remaining: number;
  locked_until_ms: number | null;
  locked_permanent: number;
  updated_at: string;
};

const ms = (iso: string): number | null => {
  const parsed = Date.parse(iso);
  return Number.isFinite(parsed) ? parsed : null;
};

const unlocked = { locked_until_ms: null, locked_permanent: 0 } as const;

/**
 * One row per user who has any 2FA event: the admin user list. Keeps what the list needs of
 * the domain's state (`evolveRow`), and no secret and no digest; what is shown is computed
 * from it by the domain's own rules (`toListItem`). What depends on the time (a pending
 * enrollment's expiry, a temporary lock) is stored as a deadline and compared with the clock
 * when queried.
 */
export const usersProjection: Projection = {
  name: 'users',
  version: 1,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        enabled_at TEXT,
        pending_expires_at_ms INTEGER,
        recovery_codes_remaining INTEGER NOT NULL,
        locked_until_ms INTEGER,
        locked_permanent INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS users');
  },
  apply(db, event) {
    usersProjection.applyBatch!(db, [event]);
  },
  // Each user's row is read once and written once a batch, however many of its events the
  // batch holds (a rebuild folds dozens per user).
  applyBatch(db, events) {
    const rows = new Map<string, Row>();
    for (const { event, position } of events) {
      if (event === null || !isTwoFactorEvent(event)) continue;
      const { userId } = event.data;
      try {
        const before = rows.get(userId) ?? stored(db, userId);
        rows.set(userId, { ...evolveRow(before, event), updated_at: event.data.at });
      } catch (cause) {
        throw new EventFailedError(position, { cause });
      }
    }
    const upsert = cached<[Row]>(
      db,
      `INSERT INTO users (user_id, enabled, enabled_at, pending_expires_at_ms, recovery_codes_remaining,
                          locked_until_ms, locked_permanent, updated_at)
       VALUES (@user_id, @enabled, @enabled_at, @pending_expires_at_ms, @recovery_codes_remaining,
               @locked_until_ms, @locked_permanent, @updated_at)
       ON CONFLICT (user_id) DO UPDATE SET
         enabled = excluded.enabled, enabled_at = excluded.enabled_at,
         pending_expires_at_ms = excluded.pending_expires_at_ms,
         recovery_codes_remaining = excluded.recovery_codes_remaining,
         locked_until_ms = excluded.locked_until_ms, locked_permanent = excluded.locked_permanent,
         updated_at = excluded.updated_at`,
    );
    for (const row of rows.values()) upsert.run(row);
  },
};

/** The user's row as stored, or the row of a user never seen. */
function stored(db: Database.Database, userId: string): Row {
  return (
    cached<[string], Row>(db, 'SELECT * FROM users WHERE user_id = ?').get(userId) ?? {
      user_id: userId,
      enabled: 0,
      enabled_at: null,
      pending_expires_at_ms: null,
      recovery_codes_remaining: 0,
      locked_until_ms: null,
      locked_permanent: 0,
      updated_at: '',
    }
  );
}

/** The row after one event: the domain's `evolve`, for the fields the list shows, without a secret or digest. */
function evolveRow(row: Row, event: TwoFactorEvent): Row {
  switch (event.type) {
    case 'EnrollmentStarted':
      return {
        ...row,
        ...(event.data.proof !== null ? unlocked : {}),
        pending_expires_at_ms: ms(event.data.expiresAt),
      };
    case 'EnrollmentConfirmationFailed':
    case 'VerificationRefused':
    case 'RefusedAttemptsCounted':
    case 'VerificationFailed':
    case 'SecretsResealed':
      return row;
    case 'TwoFactorEnabled':
      return {
        ...row,
        ...unlocked,
        enabled: 1,
        enabled_at: new Date(ms(event.data.at) ?? 0).toISOString(),
        pending_expires_at_ms: null,
        recovery_codes_remaining: event.data.recoveryCodes.digests.length,
      };
    case 'AuthenticatorReplaced':
      return {
        ...row,
        ...unlocked,
        pending_expires_at_ms: null,
        recovery_codes_remaining: event.data.recoveryCodes.digests.length,
      };
    case 'CodesRegenerated':
      return { ...row, ...unlocked, recovery_codes_remaining: event.data.recoveryCodes.digests.length };
    case 'SignInVerified':
    case 'LockoutCleared':
      return { ...row, ...unlocked };
    case 'RecoveryCodeConsumed':
      return { ...row, ...unlocked, recovery_codes_remaining: event.data.remaining };
    case 'FactorLocked': {
      const until = event.data.lockedUntil === null ? null : ms(event.data.lockedUntil);
      return { ...row, locked_until_ms: until, locked_permanent: until === null ? 1 : 0 };
    }
    case 'TwoFactorDisabled':
    case 'AdminReset':
    case 'UserErased':
      return {
        ...row,
        ...unlocked,
        enabled: 0,
        enabled_at: null,
        pending_expires_at_ms: null,
        recovery_codes_remaining: 0,
      };
    default:
      return unhandled(event);
  }
}

/**
 * The status of a row at `@now`, in SQL: the one deliberate copy of a domain rule here, the
 * domain's `statusName` (enabled; else pending while an enrollment's deadline is ahead; else
 * disabled), because a page must be filtered in the query to be as full as the data allows.
 * usersProjection.unit.test.ts checks it against `statusName` at every deadline's edge.
 */
const STATUS_SQL = `CASE WHEN enabled = 1 THEN 'enabled'
  WHEN pending_expires_at_ms IS NOT NULL AND @now < pending_expires_at_ms THEN 'pending'
  ELSE 'disabled' END`;

/**
 * A page of the user list in user id order. The status filter is evaluated in SQL against
 * `nowMs` (a pending enrollment past its deadline counts as disabled), so a filtered page is
 * as full as the data allows and the cursor never skips or repeats a user.
 */
export function listUsers(db: Database.Database, query: ListUsersQuery): UserPage {
  const limit = pageLimit(query.limit, USERS_PAGE_DEFAULT, USERS_PAGE_MAX);
  const after = query.cursor === undefined ? '' : decodeUserCursor(query.cursor);
  const filter = query.status === undefined ? '' : `AND ${STATUS_SQL} = @status`;
  const rows = db
    .prepare<{ after: string; now: number; status: string | null; take: number }, Row>(
      `SELECT * FROM users WHERE user_id > @after ${filter} ORDER BY user_id LIMIT @take`,
    )
    .all({ after, now: query.nowMs, status: query.status ?? null, take: limit + 1 });
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return {
    users: page.map((row) => toListItem(row, query.nowMs)),
    nextCursor: more ? encodeUserCursor(page[page.length - 1]!.user_id) : null,
  };
}

/** What the list shows of a user, by the domain's own rules over what the row keeps. */
function toListItem(row: Row, nowMs: number): UserListItem {
  const enabled = row.enabled === 1;
  const pending = row.pending_expires_at_ms === null ? null : { expiresAtMs: row.pending_expires_at_ms };
  const lockout = { ...noLockout, lockedUntilMs: row.locked_until_ms, permanent: row.locked_permanent === 1 };
  return {
    userId: row.user_id,
    status: statusName({ enabled, pending }, nowMs),
    enabledAt: enabled ? row.enabled_at : null,
    recoveryCodesRemaining: enabled ? row.recovery_codes_remaining : 0,
    locked: enabled && isLocked(lockout, nowMs),
  };
}
