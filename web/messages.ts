import { MAX_AUTHENTICATORS } from '../src/domain/twoFactor/authenticatorNames.ts';
import type { ApiError, FailedAttempt } from './api.ts';

/** "45 seconds", "1 minute", "2 hours": how long to wait, rounded up. */
export function duration(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return plural(Math.max(1, Math.ceil(seconds)), 'second');
  if (seconds < 3600) return plural(Math.ceil(seconds / 60), 'minute');
  return plural(Math.ceil(seconds / 3600), 'hour');
}

/**
 * "3 days", "5 hours", "20 minutes": how long is left of a grace period, to the nearest day
 * from a day on, else rounded up (never "0").
 */
export function timeLeft(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds >= 86_400) return plural(Math.round(seconds / 86_400), 'day');
  if (seconds >= 3600) return plural(Math.ceil(seconds / 3600), 'hour');
  return plural(Math.max(1, Math.ceil(seconds / 60)), 'minute');
}

/** What a lock for good of each kind of code shuts, and what lifts it. */
const LOCKED_FOR_GOOD: Record<FailedAttempt['factor'], string> = {
  app: 'codes from your authenticator app are locked until an administrator unlocks them',
  'recovery-codes':
    'your recovery codes are locked until you regenerate them or an administrator unlocks them',
};

/**
 * After a wrong code, the tries left before its kind of code locks: said from the third
 * failure in a row on (two or fewer left), null before then or once locked.
 */
export function attemptsLeftSentence(attempt: FailedAttempt): string | null {
  const left = attempt.attemptsLeft;
  if (left === 0 || left > 2) return null;
  const tries = `${left} ${left === 1 ? 'attempt' : 'attempts'} left`;
  return attempt.lockIsPermanent
    ? `${tries} before ${LOCKED_FOR_GOOD[attempt.factor]}.`
    : `${tries} before a lock.`;
}

const later = (error: ApiError) =>
  error.retryAfterSeconds === null ? 'later' : `in ${duration(error.retryAfterSeconds)}`;

const sentence = (text: string) => {
  const trimmed = text.trim();
  const first = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
};

/**
 * What to tell a person when a request fails, chosen by the service's stable error code (so a
 * code added to the service later still gets a sensible sentence from the default).
 * `about` says what they typed: an authenticator code (where a recovery code would also be
 * accepted, or not), a recovery code, or something else.
 */
export function messageFor(
  error: ApiError,
  about: 'code' | 'code-or-recovery-code' | 'recovery-code' | 'other' = 'other',
): string {
  switch (error.code) {
    case 'invalid-code':
      return about === 'recovery-code'
        ? 'That recovery code is not valid, or it has already been used.'
        : 'That code is not right. Check the code your authenticator app shows now and try again.';
    case 'code-already-used':
      return about === 'recovery-code'
        ? 'That recovery code has already been used: each one works once. Use another.'
        : 'That code has just been used. Wait for the next code in your authenticator app, then try again.';
    case 'locked':
      // Each kind of code is locked on its own: say which, and that the other one still works.
      if (about === 'recovery-code') {
        return error.status === 423
          ? 'Too many wrong recovery codes: they are locked until you regenerate them or an administrator unlocks them. Use the code from your authenticator app.'
          : `Too many wrong recovery codes: they are locked. Try again ${later(error)}, or use the code from your authenticator app.`;
      }
      return error.status === 423
        ? 'Too many failed attempts: codes from your authenticator app are refused until an administrator unlocks them. A recovery code still works.'
        : `Too many failed attempts. Try again ${later(error)}${about === 'code-or-recovery-code' ? ', or use a recovery code' : ''}.`;
    case 'rate-limited':
      return `Too many failed attempts from your network. Try again ${later(error)}.`;
    case 'enrollment-expired':
      return 'This setup has expired: a QR code is valid for 15 minutes. Start again to get a new one.';
    case 'no-pending-enrollment':
      return 'There is no setup in progress any more. Start again.';
    case 'not-enabled':
      return 'Two-factor authentication is not on for this account.';
    case 'already-enabled':
      return 'Two-factor authentication is already on for this account.';
    case 'two-factor-required':
      return 'Your administrator requires two-factor authentication for all users, so it cannot be turned off.';
    case 'authenticator-not-found':
      return 'That authenticator app is no longer on your account: it may have been removed in another window.';
    case 'authenticator-name-taken':
      return AUTHENTICATOR_NAME_TAKEN;
    case 'too-many-authenticators':
      return AUTHENTICATORS_FULL;
    case 'unauthenticated':
      return 'Your session has ended. Sign in again.';
    case 'unavailable':
      return `The service is unavailable for a moment. Try again ${later(error)}.`;
    case 'conflict':
      return 'Too many changes at the same moment. Try again.';
    case 'network':
      return 'The service could not be reached. Check your connection and try again.';
    case 'invalid-request':
      return `Check what you entered: ${error.detail}.`;
    default:
      return `${sentence(error.detail)} Try again, or reload the page.`;
  }
}

export const AUTHENTICATOR_NAME_TAKEN =
  'You already have an authenticator app with that name. Choose another name.';

/** Why "Add another authenticator" is not offered, and what the service says when asked anyway. */
export const AUTHENTICATORS_FULL = `You have ${MAX_AUTHENTICATORS} authenticator apps, the most an account can have. Remove one to add another.`;

/**
 * Removing the only authenticator app would turn two-factor authentication off, which the
 * administrator's "require 2FA" forbids: the way on is another app first.
 */
export const ONLY_AUTHENTICATOR_REQUIRED =
  'Your administrator requires two-factor authentication for all users, so your only authenticator app cannot be removed. Add another authenticator first.';

/** "Added 15 Jan 2026 · Last used 16 Jan 2026, 09:30", or "· Never used". */
export function authenticatorDates(
  authenticator: { readonly addedAt: string; readonly lastUsedAt: string | null },
  format: (iso: string) => string,
): string {
  const used =
    authenticator.lastUsedAt === null ? 'Never used' : `Last used ${format(authenticator.lastUsedAt)}`;
  return `Added ${format(authenticator.addedAt)} · ${used}`;
}
