import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { normaliseReason, reasonProblem } from '../domain/shared/reason.ts';
import { GRACE_PERIOD_HOURS_MAX, isGracePeriodHours } from '../domain/twoFactor/enrollmentDeadline.ts';
import { USER_ID_PATTERN, USER_ID_RULE } from '../domain/twoFactor/userId.ts';

/*
 * Parsers for commander's `argParser`: each checks one value by the same rule as the HTTP
 * API and throws InvalidArgumentError, which commander reports as a usage error naming the
 * argument (exit 2) before anything is opened.
 */

const checked = <T>(schema: z.ZodType<T>, value: string): T => {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid');
  return parsed.data;
};

/** A user id, or an administrator's id for `--actor`: 1–128 characters of [A-Za-z0-9._:@-]. */
export const parseId = (value: string): string =>
  checked(z.string().regex(USER_ID_PATTERN, USER_ID_RULE), value);

/** Why an administrator acted; kept in the history, so as long as the API allows and no longer. */
export const parseReason = (value: string): string => {
  const reason = normaliseReason(value);
  const problem = reasonProblem(reason);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return reason;
};

const timeSchema = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  message: 'must be an ISO 8601 time such as 2026-01-31T12:00:00Z (or a date, meaning its start in UTC)',
});

/** An instant as epoch milliseconds; a bare date means 00:00 UTC of that day. */
export const parseTime = (value: string): number => {
  const iso = checked(timeSchema, value);
  const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('is not a time that exists');
  return ms;
};

const MAX_POSITION = 2n ** 63n - 1n;

/** A global log position as printed in audit records (decimal, may exceed 2^53). */
export const parsePosition = (value: string): bigint => {
  if (!/^\d{1,20}$/.test(value)) throw new InvalidArgumentError('must be a position: a decimal number');
  const position = BigInt(value);
  // The same cap as the HTTP API: positions are 64-bit signed in the read models.
  if (position > MAX_POSITION) throw new InvalidArgumentError(`must be at most ${MAX_POSITION}`);
  return position;
};

/** A positive count, e.g. `--limit`. */
export const parseCount = (value: string): number => {
  const count = Number(value);
  if (!/^\d{1,9}$/.test(value) || count < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1');
  return count;
};

/** A grace period in whole hours, as `PUT /v1/admin/policy` takes it. */
export const parseGraceHours = (value: string): number => {
  const hours = Number(value);
  if (!/^\d{1,5}$/.test(value) || !isGracePeriodHours(hours)) {
    throw new InvalidArgumentError(`must be a whole number of hours from 0 to ${GRACE_PERIOD_HOURS_MAX}`);
  }
  return hours;
};
