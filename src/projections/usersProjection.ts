import type Database from 'better-sqlite3';
import {
  evolvePolicy,
  initialPolicyState,
  type PolicyState,
  requirementOf,
} from '../domain/policy/policy.ts';
import {
  deadlineInForce,
  type EnrollmentDeadline,
  type EnrollmentRequirement,
  enrollByMs,
  HOUR_MS,
} from '../domain/twoFactor/enrollmentDeadline.ts';
import type { AppLockoutEffect, TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { type Factor, isLocked, noLockout } from '../domain/twoFactor/lockout.ts';
import { statusName, type TwoFactorStatusName } from '../domain/twoFactor/state.ts';
import { isUserId } from '../domain/twoFactor/userId.ts';
import { isTwoFactorEvent, unhandled } from './eventData.ts';
import { pageLimit } from './pageLimit.ts';
import type { Projection } from './projection.ts';
import { EventFailedError } from './runnerFailures.ts';
import { cached } from './statementCache.ts';

export type UserStatus = TwoFactorStatusName;

/** `required`: the users seen while 2FA is required who have not enrolled (any status but enabled). */
export const USER_LIST_FILTERS = ['enabled', 'disabled', 'pending', 'required'] as const;

export type UserListFilter = (typeof USER_LIST_FILTERS)[number];

export type UserListItem = {
  readonly userId: string;
  readonly status: UserStatus;
  readonly enabledAt: string | null;
  readonly recoveryCodesRemaining: number;
  /** how many authenticator apps the user has confirmed (0 while 2FA is off) */
  readonly authenticators: number;
  /** the authenticator app's lockout */
  readonly locked: boolean;
  /** the recovery codes' lockout */
  readonly recoveryCodesLocked: boolean;
  /** while 2FA is required, until when a user seen without it may defer enrolling; else null */
  readonly enrollBy: string | null;
};

export type ListUsersQuery = {
  readonly status?: UserListFilter;
  /** 1..500, default 100 */
  readonly limit?: number;
  /** `nextCursor` of the previous page */
  readonly cursor?: string;
  /** the time statuses are computed at: a pending enrollment expires, a lock runs out */
  readonly nowMs: number;
};

export type UserPage = { readonly users: UserListItem[]; readonly nextCursor: string | null };

/**
 * The admin page's "Required: N of M seen users enrolled; K past their deadline": M is the
 * enrolled users and those seen without 2FA while it is required (the `required` list), N
 * the enrolled, K those of the `required` list whose deadline has come.
 */
export type UsersSummary = {
  readonly requireTwoFactor: boolean;
  readonly gracePeriodHours: number;
  readonly requiredSince: string | null;
  readonly seenUsers: number;
  readonly enrolledUsers: number;
  readonly pastDeadline: number;
  /** the time the deadlines were compared with */
  readonly asOf: string;
};

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
  /** confirmed authenticator apps; one waiting for its first code is not counted */
  authenticators: number;
  locked_until_ms: number | null;
  locked_permanent: number;
  codes_locked_until_ms: number | null;
  codes_locked_permanent: number;
  /** the user's enrollment deadline (the domain's EnrollmentDeadline), null when none */
  deadline_required_since_ms: number | null;
  deadline_from_ms: number | null;
  deadline_grace_applies: number | null;
  updated_at: string;
};

/** The instance policy as the list needs it: one row, folded by the domain's own `evolvePolicy`. */
type PolicyRow = {
  require_two_factor: number;
  grace_period_hours: number;
  required_since: string | null;
  updated_at: string | null;
  updated_by: string | null;
};

const ms = (iso: string): number | null => {
  const parsed = Date.parse(iso);
  return Number.isFinite(parsed) ? parsed : null;
};

/** The row's columns of each factor's lockout. */
const LOCK_COLUMNS = {
  app: { until: 'locked_until_ms', permanent: 'locked_permanent' },
  'recovery-codes': { until: 'codes_locked_until_ms', permanent: 'codes_locked_permanent' },
} as const satisfies Record<Factor, { until: keyof Row; permanent: keyof Row }>;

const appUnlocked = { locked_until_ms: null, locked_permanent: 0 } as const;
const codesUnlocked = { codes_locked_until_ms: null, codes_locked_permanent: 0 } as const;
const unlocked = { ...appUnlocked, ...codesUnlocked } as const;

/** What a right recovery code did to the app's lock (the domain's `evolve`, for the row). */
function appAfterRecoveryCode(effect: AppLockoutEffect): Partial<Row> {
  switch (effect) {
    case 'kept':
      return {};
    case 'lock-ended':
      return { locked_until_ms: null };
    case 'reset':
      return appUnlocked;
  }
}

const noDeadline = {
  deadline_required_since_ms: null,
  deadline_from_ms: null,
  deadline_grace_applies: null,
} as const;

const policyOfRow = (row: PolicyRow | undefined): PolicyState =>
  row === undefined
    ? initialPolicyState()
    : {
        requireTwoFactor: row.require_two_factor === 1,
        gracePeriodHours: row.grace_period_hours,
        requiredSince: row.required_since,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      };

function readPolicy(db: Database.Database): PolicyState {
  return policyOfRow(cached<[], PolicyRow>(db, 'SELECT * FROM users_policy WHERE id = 1').get());
}

function writePolicy(db: Database.Database, policy: PolicyState): void {
  cached(
    db,
    `INSERT INTO users_policy (id, require_two_factor, grace_period_hours, required_since, updated_at, updated_by)
     VALUES (1, @require_two_factor, @grace_period_hours, @required_since, @updated_at, @updated_by)
     ON CONFLICT (id) DO UPDATE SET
       require_two_factor = excluded.require_two_factor, grace_period_hours = excluded.grace_period_hours,
       required_since = excluded.required_since, updated_at = excluded.updated_at,
       updated_by = excluded.updated_by`,
  ).run({
    require_two_factor: policy.requireTwoFactor ? 1 : 0,
    grace_period_hours: policy.gracePeriodHours,
    required_since: policy.requiredSince,
    updated_at: policy.updatedAt,
    updated_by: policy.updatedBy,
  });
}

const deadlineOfRow = (row: Row): EnrollmentDeadline | null =>
  row.deadline_required_since_ms === null || row.deadline_from_ms === null
    ? null
    : {
        requiredSinceMs: row.deadline_required_since_ms,
        fromMs: row.deadline_from_ms,
        graceApplies: row.deadline_grace_applies === 1,
      };

/**
 * One row per user who has any 2FA event: the admin user list. Keeps what the list needs of
 * the domain's state (`evolveRow`), and no secret and no digest; what is shown is computed
 * from it by the domain's own rules (`toListItem`). What depends on the time (a pending
 * enrollment's expiry, a temporary lock, an enrollment deadline) is stored as its facts and
 * compared with the clock when queried. The instance policy is kept beside the rows, so that
 * every deadline follows the grace period in force, as the domain's do.
 */
export const usersProjection: Projection = {
  name: 'users',
  // 2: enrollment deadlines and the policy (status=required, enrollBy, the summary)
  // 3: the recovery codes' lockout beside the app's
  // 4: the count of confirmed authenticator apps (a user may have several)
  version: 4,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        user_id TEXT PRIMARY KEY,
        enabled INTEGER NOT NULL,
        enabled_at TEXT,
        pending_expires_at_ms INTEGER,
        recovery_codes_remaining INTEGER NOT NULL,
        authenticators INTEGER NOT NULL,
        locked_until_ms INTEGER,
        locked_permanent INTEGER NOT NULL,
        codes_locked_until_ms INTEGER,
        codes_locked_permanent INTEGER NOT NULL,
        deadline_required_since_ms INTEGER,
        deadline_from_ms INTEGER,
        deadline_grace_applies INTEGER,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS users_required ON users (deadline_required_since_ms, user_id)
        WHERE enabled = 0 AND deadline_required_since_ms IS NOT NULL;
      CREATE TABLE IF NOT EXISTS users_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        require_two_factor INTEGER NOT NULL,
        grace_period_hours INTEGER NOT NULL,
        required_since TEXT,
        updated_at TEXT,
        updated_by TEXT
      );
    `);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS users; DROP TABLE IF EXISTS users_policy');
  },
  apply(db, event) {
    usersProjection.applyBatch!(db, [event]);
  },
  // Each user's row is read once and written once a batch, however many of its events the
  // batch holds (a rebuild folds dozens per user).
  applyBatch(db, events) {
    const rows = new Map<string, Row>();
    for (const { event, position } of events) {
      if (event === null) continue;
      try {
        if (event.type === 'TwoFactorRequirementChanged') {
          writePolicy(db, evolvePolicy(readPolicy(db), event));
          continue;
        }
        if (!isTwoFactorEvent(event)) continue;
        const { userId } = event.data;
        const before = rows.get(userId) ?? stored(db, userId);
        rows.set(userId, { ...evolveRow(before, event), updated_at: event.data.at });
      } catch (cause) {
        throw new EventFailedError(position, { cause });
      }
    }
    const upsert = cached<[Row]>(
      db,
      `INSERT INTO users (user_id, enabled, enabled_at, pending_expires_at_ms, recovery_codes_remaining,
                          authenticators, locked_until_ms, locked_permanent, codes_locked_until_ms, codes_locked_permanent,
                          deadline_required_since_ms, deadline_from_ms, deadline_grace_applies, updated_at)
       VALUES (@user_id, @enabled, @enabled_at, @pending_expires_at_ms, @recovery_codes_remaining,
               @authenticators, @locked_until_ms, @locked_permanent, @codes_locked_until_ms, @codes_locked_permanent,
               @deadline_required_since_ms, @deadline_from_ms, @deadline_grace_applies, @updated_at)
       ON CONFLICT (user_id) DO UPDATE SET
         enabled = excluded.enabled, enabled_at = excluded.enabled_at,
         pending_expires_at_ms = excluded.pending_expires_at_ms,
         recovery_codes_remaining = excluded.recovery_codes_remaining,
         authenticators = excluded.authenticators,
         locked_until_ms = excluded.locked_until_ms, locked_permanent = excluded.locked_permanent,
         codes_locked_until_ms = excluded.codes_locked_until_ms,
         codes_locked_permanent = excluded.codes_locked_permanent,
         deadline_required_since_ms = excluded.deadline_required_since_ms,
         deadline_from_ms = excluded.deadline_from_ms,
         deadline_grace_applies = excluded.deadline_grace_applies,
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
      authenticators: 0,
      ...unlocked,
      ...noDeadline,
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
        ...(event.data.proof !== null ? appUnlocked : {}),
        pending_expires_at_ms: ms(event.data.expiresAt),
      };
    case 'EnrollmentConfirmationFailed':
    case 'VerificationRefused':
    case 'RefusedAttemptsCounted':
    case 'VerificationFailed':
    case 'SecretsResealed':
    case 'AuthenticatorRenamed':
      return row;
    case 'TwoFactorEnabled':
      return {
        ...row,
        ...unlocked,
        enabled: 1,
        enabled_at: new Date(ms(event.data.at) ?? 0).toISOString(),
        pending_expires_at_ms: null,
        recovery_codes_remaining: event.data.recoveryCodes.digests.length,
        authenticators: 1,
      };
    case 'AuthenticatorReplaced':
      // The new app replaces every one the user had.
      return {
        ...row,
        ...unlocked,
        pending_expires_at_ms: null,
        recovery_codes_remaining: event.data.recoveryCodes.digests.length,
        authenticators: 1,
      };
    // An addition waits for its first code beside the enabled apps: the user is enabled all
    // along, so the list's status does not look at it, and it counts once confirmed. A TOTP
    // code that proved it is a success of the app, as at sign-in; a recovery code's effect is
    // its `RecoveryCodeConsumed`.
    case 'AuthenticatorAdded':
      return event.data.proof.method === 'totp' ? { ...row, ...appUnlocked } : row;
    case 'AuthenticatorConfirmed':
      return { ...row, ...appUnlocked, authenticators: row.authenticators + 1 };
    case 'AuthenticatorRemoved':
      // Removing the last one is followed by `TwoFactorDisabled`, which clears the rest.
      return {
        ...row,
        ...(event.data.proof.method === 'totp' ? appUnlocked : {}),
        authenticators: Math.max(0, row.authenticators - 1),
      };
    case 'CodesRegenerated':
      return { ...row, ...unlocked, recovery_codes_remaining: event.data.recoveryCodes.digests.length };
    case 'SignInVerified':
      return event.data.method === 'totp' ? { ...row, ...appUnlocked } : row;
    case 'LockoutCleared':
      return { ...row, ...unlocked };
    case 'RecoveryCodeConsumed':
      return {
        ...row,
        ...codesUnlocked,
        ...appAfterRecoveryCode(event.data.appLockout),
        recovery_codes_remaining: event.data.remaining,
      };
    case 'FactorLocked': {
      const until = event.data.lockedUntil === null ? null : ms(event.data.lockedUntil);
      const columns = LOCK_COLUMNS[event.data.factor];
      return { ...row, [columns.until]: until, [columns.permanent]: until === null ? 1 : 0 };
    }
    case 'TwoFactorDisabled':
    case 'AdminReset':
    case 'UserErased':
      return {
        ...row,
        ...unlocked,
        // As the domain's evolve: the deadline outlives a lost 2FA, not an erasure.
        ...(event.type === 'UserErased' ? noDeadline : {}),
        enabled: 0,
        enabled_at: null,
        pending_expires_at_ms: null,
        recovery_codes_remaining: 0,
        authenticators: 0,
      };
    case 'EnrollmentDeadlineRecorded':
      return {
        ...row,
        deadline_required_since_ms: ms(event.data.requiredSince),
        deadline_from_ms: ms(event.data.at),
        deadline_grace_applies: event.data.graceApplies ? 1 : 0,
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
 * The `required` list, in SQL: not enrolled, with a deadline of the requirement's current
 * period (the domain's `deadlineInForce`); `@since` is null while 2FA is not required, and
 * then nobody is on it.
 */
const REQUIRED_SQL = 'enabled = 0 AND deadline_required_since_ms = @since';

/**
 * A required user's deadline, in SQL: the second deliberate copy, of the domain's `enrollByMs`
 * for a recorded deadline (max(the period's start, first seen) + the grace, none after a
 * reset), so the summary counts without reading every row. Checked against `enrollByMs` in
 * usersProjection.unit.test.ts at each deadline's edge.
 */
const ENROLL_BY_SQL =
  'MAX(@since, deadline_from_ms) + CASE WHEN deadline_grace_applies = 1 THEN @graceMs ELSE 0 END';

/** The bindings the requirement's SQL reads. */
const requirementBindings = (requirement: EnrollmentRequirement | null) => ({
  since: requirement?.sinceMs ?? null,
  graceMs: (requirement?.gracePeriodHours ?? 0) * HOUR_MS,
});

/**
 * A page of the user list in user id order. The status filter is evaluated in SQL against
 * `nowMs` (a pending enrollment past its deadline counts as disabled), so a filtered page is
 * as full as the data allows and the cursor never skips or repeats a user.
 */
export function listUsers(db: Database.Database, query: ListUsersQuery): UserPage {
  const limit = pageLimit(query.limit, USERS_PAGE_DEFAULT, USERS_PAGE_MAX);
  const after = query.cursor === undefined ? '' : decodeUserCursor(query.cursor);
  const requirement = requirementOf(readPolicy(db));
  const filter =
    query.status === undefined
      ? ''
      : query.status === 'required'
        ? `AND ${REQUIRED_SQL}`
        : `AND ${STATUS_SQL} = @status`;
  const rows = db
    .prepare<{ after: string; now: number; status: string | null; since: number | null; take: number }, Row>(
      `SELECT * FROM users WHERE user_id > @after ${filter} ORDER BY user_id LIMIT @take`,
    )
    .all({
      after,
      now: query.nowMs,
      status: query.status ?? null,
      since: requirementBindings(requirement).since,
      take: limit + 1,
    });
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return {
    users: page.map((row) => toListItem(row, query.nowMs, requirement)),
    nextCursor: more ? encodeUserCursor(page[page.length - 1]!.user_id) : null,
  };
}

/** The coverage of the requirement at `nowMs` (see `UsersSummary`). */
export function usersSummary(db: Database.Database, nowMs: number): UsersSummary {
  const policy = readPolicy(db);
  const requirement = requirementOf(policy);
  const counts = cached<
    { now: number; since: number | null; graceMs: number },
    { enrolled: number | null; required: number | null; past: number | null }
  >(
    db,
    `SELECT SUM(enabled = 1) AS enrolled,
            SUM(${REQUIRED_SQL}) AS required,
            SUM(${REQUIRED_SQL} AND ${ENROLL_BY_SQL} <= @now) AS past
       FROM users`,
  ).get({ now: nowMs, ...requirementBindings(requirement) });
  const enrolled = counts?.enrolled ?? 0;
  return {
    requireTwoFactor: policy.requireTwoFactor,
    gracePeriodHours: policy.gracePeriodHours,
    requiredSince: requirement === null ? null : policy.requiredSince,
    seenUsers: enrolled + (counts?.required ?? 0),
    enrolledUsers: enrolled,
    pastDeadline: counts?.past ?? 0,
    asOf: new Date(nowMs).toISOString(),
  };
}

/** What the list shows of a user, by the domain's own rules over what the row keeps. */
function toListItem(row: Row, nowMs: number, requirement: EnrollmentRequirement | null): UserListItem {
  const enabled = row.enabled === 1;
  const pending = row.pending_expires_at_ms === null ? null : { expiresAtMs: row.pending_expires_at_ms };
  const lockedNow = (factor: Factor) => {
    const columns = LOCK_COLUMNS[factor];
    const lockout = {
      ...noLockout,
      lockedUntilMs: row[columns.until] as number | null,
      permanent: row[columns.permanent] === 1,
    };
    return enabled && isLocked(lockout, nowMs);
  };
  return {
    userId: row.user_id,
    status: statusName({ enabled, pending }, nowMs),
    enabledAt: enabled ? row.enabled_at : null,
    recoveryCodesRemaining: enabled ? row.recovery_codes_remaining : 0,
    authenticators: enabled ? row.authenticators : 0,
    locked: lockedNow('app'),
    recoveryCodesLocked: lockedNow('recovery-codes'),
    enrollBy: enrollByOf(row, nowMs, requirement),
  };
}

/**
 * A listed user's deadline: only for one seen without 2FA in the requirement's current
 * period (a user not seen yet has none to show: the list is of what was recorded).
 */
function enrollByOf(row: Row, nowMs: number, requirement: EnrollmentRequirement | null): string | null {
  if (row.enabled === 1 || requirement === null) return null;
  const deadline = deadlineInForce(deadlineOfRow(row), requirement);
  return deadline === null ? null : new Date(enrollByMs(deadline, requirement, nowMs)).toISOString();
}
