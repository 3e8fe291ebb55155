import { Readable } from 'node:stream';
import type { onRequestHookHandler } from 'fastify';
import { z } from 'zod';
import type { Role } from '../../config/apiKeys.ts';
import { TWO_FACTOR_STATUS_NAMES } from '../../domain/twoFactor/state.ts';
import type { AuditRecord } from '../../projections/auditRecord.ts';
import {
  NOTIFICATION_KINDS,
  NOTIFICATIONS_PAGE_DEFAULT,
  NOTIFICATIONS_PAGE_MAX,
  RECOVERY_CODES_LOW,
} from '../../projections/notificationsProjection.ts';
import type { ReadModels } from '../../projections/readModels.ts';
import {
  InvalidCursorError,
  USER_LIST_FILTERS,
  USERS_PAGE_DEFAULT,
  USERS_PAGE_MAX,
} from '../../projections/usersProjection.ts';
import { HttpProblem } from '../problems.ts';
import { problemResponses, userIdSchema } from '../schemas.ts';
import type { TypedApp } from './routeDeps.ts';

/** Largest position SQLite (and EventStoreDB's signed 64-bit commit position) can hold. */
const MAX_POSITION = 2n ** 63n - 1n;

const positionParameter = (description: string) =>
  z
    .string()
    .regex(/^\d{1,20}$/, 'must be a position: a decimal number of up to 20 digits')
    .refine(
      (value) => !/^\d{1,20}$/.test(value) || BigInt(value) <= MAX_POSITION,
      'is beyond any position of the log',
    )
    .describe(description);

const isoTime = (description: string) =>
  z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z' })
    .describe(description);

/** A count in a query string: decimal digits only (no `1e3`, `0x10` or ` 7`), then bounded. */
const count = (max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`));

const pageLimit = (max: number, fallback: number) =>
  count(max).default(fallback).describe(`Most items in the page, 1–${max} (default ${fallback})`);

const userListItem = z.object({
  userId: z.string(),
  status: z.enum(TWO_FACTOR_STATUS_NAMES),
  enabledAt: z.string().nullable(),
  recoveryCodesRemaining: z.number().int(),
  authenticators: z
    .number()
    .int()
    .describe(
      'Authenticator apps the user has confirmed (one being added counts once confirmed); 0 while 2FA is off',
    ),
  locked: z.boolean().describe("The authenticator app's lockout, at the time of the request"),
  recoveryCodesLocked: z.boolean().describe("The recovery codes' lockout, at the time of the request"),
  enrollBy: z
    .string()
    .nullable()
    .describe(
      'While 2FA is required: the deadline of a user seen without it (past: setup is forced at sign-in); null for everyone else',
    ),
});

const usersSummarySchema = z
  .object({
    requireTwoFactor: z.boolean(),
    gracePeriodHours: z.number().int(),
    requiredSince: z.string().nullable().describe('Start of the current period of the requirement'),
    seenUsers: z
      .number()
      .int()
      .describe(
        'Users enrolled, plus those seen without 2FA while it is required (the status=required list)',
      ),
    enrolledUsers: z.number().int().describe('Users with 2FA enabled'),
    pastDeadline: z
      .number()
      .int()
      .describe(
        'Users of the status=required list whose deadline has come: setup is forced at their sign-in',
      ),
    asOf: z.string().describe('The time the deadlines were compared with'),
  })
  .describe('"Required: enrolledUsers of seenUsers seen users enrolled; pastDeadline past their deadline"');

export const auditRecordSchema = z
  .object({
    position: z.string().describe('Place in the global log, decimal (may exceed 2^53)'),
    recordedAt: z.string().describe('When the store committed the event (ISO 8601 UTC)'),
    userId: z.string().nullable().describe('null for instance-wide events (the policy)'),
    type: z.string().describe('Event name, e.g. TwoFactorEnabled, VerificationFailed'),
    actor: z.object({ role: z.string(), id: z.string().nullable() }),
    correlationId: z.string().nullable().describe('X-Request-Id of the request that caused it'),
    endUserIp: z.string().nullable(),
    endUserAgent: z.string().nullable(),
    personalDataErased: z
      .boolean()
      .describe(
        'true when the user was erased: endUserIp, endUserAgent (and addresses in details) are gone for good',
      ),
    details: z
      .record(z.string(), z.unknown())
      .describe(
        'Per event type, what an investigator needs (occurredAt, purpose, method, consecutiveFailures, remaining, lockedUntil, reason, and for events that concern one authenticator app its authenticatorId and authenticatorName…); never a secret, code or hash',
      ),
  })
  .describe('One line of the audit stream');

const notificationSchema = z.object({
  position: z.string().describe('Position of the event in the global log, decimal'),
  userId: z.string(),
  kind: z.enum(NOTIFICATION_KINDS),
  occurredAt: z.string(),
  details: z
    .record(z.string(), z.unknown())
    .describe(
      'occurredAt, endUserIp and endUserAgent (null unless the user caused it), plus per kind: remaining (recovery-code-used, recovery-codes-low), purpose, factor (factor-locked, factor-lock-warning: `app` for the authenticator app, `recovery-codes`), lockedUntil (factor-locked; null = until an administrator unlocks), consecutiveFailures (factor-lock-warning), method (two-factor-disabled), previousStatus (admin-reset), authenticatorId and authenticatorName (authenticator-added, authenticator-removed: the app, by the name its user gave it). Never a secret or code.',
    ),
});

/** Turns the records into NDJSON text in chunks of about 64 KiB, pulled as the client reads. */
async function* ndjson(records: AsyncIterable<AuditRecord>): AsyncGenerator<string> {
  let chunk = '';
  for await (const record of records) {
    chunk += `${JSON.stringify(record)}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The routes served from the read models: the admin user list, the audit stream and the
 * notification feed. Matches `buildApp`'s `readModelRoutes` hook.
 */
export function readModelRoutes(readModels: ReadModels, clock: () => number) {
  return (app: TypedApp, requireRole: (role: Role) => onRequestHookHandler): void => {
    const security = [{ apiKey: [] }];

    app.get('/v1/admin/users', {
      onRequest: requireRole('admin'),
      schema: {
        tags: ['admin'],
        security,
        summary: 'Users with any 2FA history, in user id order, page by page',
        description:
          'From a projection of the event log (may lag by well under a second). A pending enrollment counts as pending until it expires, then as disabled; `locked` and `enrollBy` are evaluated at the time of the request. `status=required` lists the users seen while 2FA is required (in its current period) who have not enrolled, pending ones included, each with its `enrollBy`. Pass `nextCursor` as `cursor` for the next page; it is null on the last page.',
        querystring: z.strictObject({
          status: z
            .enum(USER_LIST_FILTERS)
            .optional()
            .describe(
              `Only users in this status (${TWO_FACTOR_STATUS_NAMES.join(', ')}), or required: seen without 2FA while it is required`,
            ),
          limit: pageLimit(USERS_PAGE_MAX, USERS_PAGE_DEFAULT),
          cursor: z.string().max(256).optional().describe('nextCursor of the previous page (opaque)'),
        }),
        response: {
          200: z.object({ users: z.array(userListItem), nextCursor: z.string().nullable() }),
          ...problemResponses(400, 401, 403),
        },
      },
      handler: async (request) => {
        const { status, limit, cursor } = request.query;
        try {
          return readModels.listUsers({
            limit,
            nowMs: clock(),
            ...(status ? { status } : {}),
            ...(cursor !== undefined ? { cursor } : {}),
          });
        } catch (error) {
          if (error instanceof InvalidCursorError) {
            throw new HttpProblem('invalid-request', 'querystring.cursor: not a cursor of this list');
          }
          throw error;
        }
      },
    });

    app.get('/v1/admin/users/summary', {
      onRequest: requireRole('admin'),
      schema: {
        tags: ['admin'],
        security,
        summary: 'Coverage of "require 2FA": how many seen users enrolled, how many are past their deadline',
        description:
          'For the admin page\'s "Required: N of M seen users enrolled; K past their deadline": N = enrolledUsers, M = seenUsers, K = pastDeadline. seenUsers − enrolledUsers is the length of the status=required list. From the same projection as the list (may lag by well under a second); deadlines are compared with the time of the request. While 2FA is not required, seenUsers = enrolledUsers and pastDeadline = 0.',
        response: { 200: usersSummarySchema, ...problemResponses(401, 403) },
      },
      handler: async () => readModels.usersSummary(clock()),
    });

    app.get('/v1/audit/events', {
      onRequest: requireRole('audit'),
      schema: {
        tags: ['audit'],
        security,
        summary: 'The audit history as NDJSON: one audit record a line, in log order, streamed',
        description:
          'Every event, failed attempts included, with who (actor), from where (endUserIp, endUserAgent) and which request (correlationId = X-Request-Id). Filters combine: `userId`; `since` (recordedAt at or after) and `until` (recordedAt before); `after`, a position to resume from (records strictly after it: pass the last position you received). Without `limit` the whole matching history is streamed, read page by page so that any length costs the same memory. Served from a projection that may lag by well under a second. Records carry no secret, no recovery code and no hash of one.',
        querystring: z.strictObject({
          userId: userIdSchema.optional(),
          since: isoTime('Only records recorded at or after this time').optional(),
          until: isoTime('Only records recorded before this time').optional(),
          after: positionParameter('Only records after this position (resume)').optional(),
          limit: count(1_000_000_000).optional().describe('Most records in all (default: no limit)'),
        }),
        response: {
          200: {
            description: 'application/x-ndjson: one JSON audit record per line, each line ending in \\n',
            content: { 'application/x-ndjson': { schema: auditRecordSchema } },
          },
          ...problemResponses(400, 401, 403),
        },
      },
      handler: async (request, reply) => {
        const { userId, since, until, after, limit } = request.query;
        const records = readModels.auditEvents({
          ...(userId !== undefined ? { userId } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(after !== undefined ? { after: BigInt(after) } : {}),
          ...(limit !== undefined ? { limit } : {}),
        });
        reply.type('application/x-ndjson; charset=utf-8');
        reply.header('cache-control', 'no-store');
        // HEAD: the headers only, without reading the history just to throw it away.
        if (request.method === 'HEAD') return reply.send('' as never);
        return reply.send(Readable.from(ndjson(records)) as never);
      },
    });

    app.get('/v1/notifications', {
      onRequest: requireRole('web'),
      schema: {
        tags: ['notifications'],
        security,
        summary: 'Security notifications to tell users about, in log order',
        description:
          `Kinds: ${NOTIFICATION_KINDS.join(', ')}. recovery-code-used carries details.remaining; recovery-codes-low (${RECOVERY_CODES_LOW} or fewer left) follows the recovery-code-used of the same event. ` +
          'Poll with `after` = the `nextAfter` of the previous answer: it is the position of the last notification returned, or, when none is new, the `after` you sent (null when you sent none), so passing it back never skips or repeats one. The notifications of one event share its position and are never split across pages, so a page may hold one more than `limit`. From a projection that may lag by well under a second.',
        querystring: z.strictObject({
          after: positionParameter(
            'Only notifications after this position: the nextAfter you received',
          ).optional(),
          limit: pageLimit(NOTIFICATIONS_PAGE_MAX, NOTIFICATIONS_PAGE_DEFAULT),
        }),
        response: {
          200: z.object({
            notifications: z.array(notificationSchema),
            nextAfter: z.string().nullable().describe('Pass back as `after` to continue'),
          }),
          ...problemResponses(400, 401, 403),
        },
      },
      handler: async (request) => {
        const { after, limit } = request.query;
        return readModels.notifications({ limit, ...(after !== undefined ? { after: BigInt(after) } : {}) });
      },
    });
  };
}
