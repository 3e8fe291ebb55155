import type Database from 'better-sqlite3';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { FAILURES_BEFORE_WARNING, FAILURES_PER_LOCK } from '../domain/twoFactor/lockout.ts';
import { isTwoFactorEvent, stringOrNull, unhandled } from './eventData.ts';
import { pageLimit } from './pageLimit.ts';
import { keptSealed, type PersonalDataReader, sealedOfKept } from './personalData.ts';
import type { EventEnvelope, Projection } from './projection.ts';
import { cached } from './statementCache.ts';

export const NOTIFICATION_KINDS = [
  'two-factor-enabled',
  'two-factor-disabled',
  'authenticator-replaced',
  'authenticator-added',
  'authenticator-removed',
  'recovery-codes-regenerated',
  'recovery-code-used',
  'recovery-codes-low',
  'factor-locked',
  'factor-lock-warning',
  'admin-reset',
] as const;

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export type Notification = {
  readonly position: string;
  readonly userId: string;
  readonly kind: NotificationKind;
  readonly occurredAt: string;
  readonly details: Record<string, unknown>;
};

export type NotificationPage = {
  readonly notifications: Notification[];
  readonly nextAfter: string | null;
};

/** Where a notification row keeps the sealed personal fields of its event. */
const SEALED = 'sealed';

/** The page as it is shown: sealed addresses and agents opened (null once the user was erased). */
export async function revealNotifications(
  page: NotificationPage,
  read: PersonalDataReader,
): Promise<NotificationPage> {
  const notifications = await Promise.all(
    page.notifications.map(async (notification) => {
      const { [SEALED]: sealed, ...details } = notification.details;
      const envelope = sealedOfKept(sealed);
      if (envelope === null)
        return notification.details === details ? notification : { ...notification, details };
      const opened = await read(notification.userId, envelope);
      return {
        ...notification,
        details: {
          ...details,
          endUserIp: opened?.metadata.endUserIp ?? null,
          endUserAgent: opened?.metadata.endUserAgent ?? null,
        },
      };
    }),
  );
  return { ...page, notifications };
}

/** `recovery-codes-low` accompanies a consumption that leaves this many or fewer. */
export const RECOVERY_CODES_LOW = 2;

export const NOTIFICATIONS_PAGE_DEFAULT = 100;
export const NOTIFICATIONS_PAGE_MAX = 500;

type Draft = { kind: NotificationKind; details: Record<string, unknown> };

/** Which of the user's authenticator apps: its id, and the name the user gave it. */
const device = (data: { readonly authenticatorId: string; readonly name: string }) => ({
  authenticatorId: data.authenticatorId,
  authenticatorName: data.name,
});

/** What each event tells the user, beyond the common fields; nothing secret, no code. */
function draftsOf(event: TwoFactorEvent): Draft[] {
  switch (event.type) {
    case 'TwoFactorEnabled':
      return [{ kind: 'two-factor-enabled', details: {} }];
    case 'TwoFactorDisabled':
      return [{ kind: 'two-factor-disabled', details: { method: event.data.method } }];
    case 'AuthenticatorReplaced':
      return [{ kind: 'authenticator-replaced', details: {} }];
    // A device that can sign in as the user came or went: the user should hear of either, and
    // recognise which by the name they gave it. Told once it counts, not when it is started.
    case 'AuthenticatorConfirmed':
      return [{ kind: 'authenticator-added', details: device(event.data) }];
    case 'AuthenticatorRemoved':
      return [{ kind: 'authenticator-removed', details: device(event.data) }];
    case 'CodesRegenerated':
      return [{ kind: 'recovery-codes-regenerated', details: {} }];
    case 'RecoveryCodeConsumed': {
      const { remaining, purpose } = event.data;
      const used: Draft = { kind: 'recovery-code-used', details: { remaining, purpose } };
      return remaining <= RECOVERY_CODES_LOW
        ? [used, { kind: 'recovery-codes-low', details: { remaining } }]
        : [used];
    }
    case 'VerificationFailed':
      // Someone is trying codes persistently: the user should know before the lock is for good.
      // Each factor counts on its own, so each warns on its own, naming which.
      return event.data.consecutiveFailures === FAILURES_BEFORE_WARNING
        ? [
            {
              kind: 'factor-lock-warning',
              details: { factor: event.data.factor, consecutiveFailures: FAILURES_BEFORE_WARNING },
            },
          ]
        : [];
    case 'FactorLocked':
      // One message a run of failures for the first lock and one for the lock that waits for an
      // administrator; the locks between only grow longer, and a message each would be noise.
      return event.data.consecutiveFailures === FAILURES_PER_LOCK || event.data.lockedUntil === null
        ? [
            {
              kind: 'factor-locked',
              details: { factor: event.data.factor, lockedUntil: event.data.lockedUntil },
            },
          ]
        : [];
    case 'AdminReset':
      // A reset of a user who had no 2FA changed nothing for them: recorded for the audit,
      // nothing to tell the user. The administrator's reason is written for the audit and may
      // name internal tickets or suspicions; the user is told that their 2FA was reset, not why.
      if (event.data.previousStatus === 'disabled') return [];
      return [{ kind: 'admin-reset', details: { previousStatus: event.data.previousStatus } }];
    case 'EnrollmentStarted':
    case 'AuthenticatorAdded':
    // A label changed by its user: nothing a stranger could gain by it.
    case 'AuthenticatorRenamed':
    case 'EnrollmentConfirmationFailed':
    case 'SignInVerified':
    case 'VerificationRefused':
    case 'RefusedAttemptsCounted':
    case 'LockoutCleared':
    case 'SecretsResealed':
    // Erased on the user's own request: nothing is sent to an address the product may no
    // longer hold, and the erasure is the audit's to show.
    case 'UserErased':
    // The deadline is the sign-in's to enforce: the web tier tells the user there.
    case 'EnrollmentDeadlineRecorded':
      return [];
    default:
      return unhandled(event);
  }
}

/**
 * What the web API should tell a user about, in log order. One event may give two
 * notifications (a recovery code used and codes running low); `seq` orders them and the
 * pair shares the event's position.
 */
export const notificationsProjection: Projection = {
  name: 'notifications',
  // 4: the end user's address and agent kept sealed, opened when read
  // 5: an erasure also clears the plain-text address and agent of events from before data keys
  // 6: factor-locked and factor-lock-warning name the factor (app or recovery codes)
  // 7: sealed fields of metadata version 2 kept in their packed form
  // (The kinds authenticator-added and -removed come from event types no older log holds:
  // nothing to rebuild for them.)
  version: 7,
  migrate(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS notifications (
        position INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        details TEXT NOT NULL,
        PRIMARY KEY (position, seq)
      ) WITHOUT ROWID;
    `);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS notifications');
  },
  apply(db, recorded) {
    const { event } = recorded;
    if (event === null || !isTwoFactorEvent(event)) return;
    if (event.type === 'UserErased') {
      // Copies from events written before data keys, which no key's destruction reaches.
      cached<[string]>(
        db,
        `UPDATE notifications SET details = json_set(details, '$.endUserIp', NULL, '$.endUserAgent', NULL)
          WHERE user_id = ?
            AND (json_extract(details, '$.endUserIp') IS NOT NULL OR json_extract(details, '$.endUserAgent') IS NOT NULL)`,
      ).run(event.data.userId);
    }
    const drafts = draftsOf(event);
    if (drafts.length === 0) return;
    const { userId } = event.data;
    const occurredAt = occurredAtOf(recorded, event.data.at);
    const common = { occurredAt, ...whereFrom(recorded) };
    const insert = cached<[bigint, number, string, string, string, string]>(
      db,
      'INSERT INTO notifications (position, seq, user_id, kind, occurred_at, details) VALUES (?, ?, ?, ?, ?, ?)',
    );
    drafts.forEach((draft, seq) => {
      insert.run(
        recorded.position,
        seq,
        userId,
        draft.kind,
        occurredAt,
        JSON.stringify({ ...common, ...draft.details }),
      );
    });
  },
};

function occurredAtOf(recorded: EventEnvelope, at: string): string {
  const parsed = Date.parse(at);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : recorded.recordedAt.toISOString();
}

/**
 * The end user's address and browser, as the web API reported them, when the user caused the
 * event; for what an administrator did (a reset, an unlock) those headers describe the
 * administrator's session, which is not the user's to see, so they are null.
 */
function whereFrom(event: EventEnvelope): Record<string, unknown> {
  const actor = event.metadata.actor as { role?: unknown } | undefined;
  if (actor?.role !== 'web') return { endUserIp: null, endUserAgent: null };
  // Kept sealed as the event has it; opened when read (`revealNotifications`).
  const sealed = keptSealed(event.metadata);
  if (sealed !== null) return { endUserIp: null, endUserAgent: null, [SEALED]: sealed };
  return {
    endUserIp: stringOrNull(event.metadata.endUserIp),
    endUserAgent: stringOrNull(event.metadata.endUserAgent),
  };
}

type Row = {
  position: bigint;
  seq: bigint;
  user_id: string;
  kind: NotificationKind;
  occurred_at: string;
  details: string;
};

/**
 * Up to `limit` notifications after the position `after`, in log order. The notifications of
 * one event are never split across pages (a page may hold one more than `limit` for that),
 * so resuming after the last position returned misses nothing. `nextAfter` is the position of
 * the last one returned; on an empty page it is the `after` given (null if none), so a poller
 * always passes back what it received.
 */
export function listNotifications(
  db: Database.Database,
  query: { readonly after?: bigint; readonly limit?: number },
): NotificationPage {
  const limit = pageLimit(query.limit, NOTIFICATIONS_PAGE_DEFAULT, NOTIFICATIONS_PAGE_MAX);
  const after = query.after ?? 0n;
  const rows = cached<[bigint, number], Row>(
    db,
    'SELECT * FROM notifications WHERE position > ? ORDER BY position, seq LIMIT ?',
  )
    .safeIntegers(true)
    .all(after, limit);
  const last = rows[rows.length - 1];
  if (rows.length === limit && last !== undefined) {
    const rest = cached<[bigint, bigint], Row>(
      db,
      'SELECT * FROM notifications WHERE position = ? AND seq > ? ORDER BY seq',
    )
      .safeIntegers(true)
      .all(last.position, last.seq);
    rows.push(...rest);
  }
  return {
    notifications: rows.map((row) => ({
      position: row.position.toString(),
      userId: row.user_id,
      kind: row.kind,
      occurredAt: row.occurred_at,
      details: JSON.parse(row.details) as Record<string, unknown>,
    })),
    nextAfter:
      last !== undefined
        ? last.position.toString()
        : query.after !== undefined
          ? query.after.toString()
          : null,
  };
}
