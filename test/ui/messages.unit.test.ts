import { describe, expect, it } from 'vitest';
import { ApiError } from '../../web/api.ts';
import { attemptsLeftSentence, duration, messageFor, timeLeft } from '../../web/messages.ts';

const problem = (code: string, status: number, retryAfterSeconds: number | null = null, detail = 'x') =>
  new ApiError(code, status, detail, retryAfterSeconds);

describe('what the page says when a request fails', () => {
  it('tells a wrong code from a wrong or used recovery code', () => {
    expect(messageFor(problem('invalid-code', 422), 'code')).toBe(
      'That code is not right. Check the code your authenticator app shows now and try again.',
    );
    expect(messageFor(problem('invalid-code', 422), 'recovery-code')).toBe(
      'That recovery code is not valid, or it has already been used.',
    );
  });

  it('says a code already used means waiting for the next one, and a used recovery code means another', () => {
    expect(messageFor(problem('code-already-used', 422), 'code')).toBe(
      'That code has just been used. Wait for the next code in your authenticator app, then try again.',
    );
    expect(messageFor(problem('code-already-used', 422), 'recovery-code')).toBe(
      'That recovery code has already been used: each one works once. Use another.',
    );
  });

  it('gives the time left of a lock, and the way out with a recovery code where one is accepted', () => {
    expect(messageFor(problem('locked', 429, 60), 'code')).toBe(
      'Too many failed attempts. Try again in 1 minute.',
    );
    expect(messageFor(problem('locked', 429, 29), 'code-or-recovery-code')).toBe(
      'Too many failed attempts. Try again in 29 seconds, or use a recovery code.',
    );
    expect(messageFor(problem('locked', 423), 'code')).toContain('until an administrator unlocks them');
    expect(messageFor(problem('rate-limited', 429, 45))).toBe(
      'Too many failed attempts from your network. Try again in 45 seconds.',
    );
    expect(messageFor(problem('rate-limited', 429))).toBe(
      'Too many failed attempts from your network. Try again later.',
    );
  });

  it('says when the recovery codes are the locked ones, and that the authenticator app still works', () => {
    expect(messageFor(problem('locked', 429, 60), 'recovery-code')).toBe(
      'Too many wrong recovery codes: they are locked. Try again in 1 minute, or use the code from your authenticator app.',
    );
    expect(messageFor(problem('locked', 423), 'recovery-code')).toBe(
      'Too many wrong recovery codes: they are locked until you regenerate them or an administrator unlocks them. Use the code from your authenticator app.',
    );
    expect(messageFor(problem('locked', 423), 'code-or-recovery-code')).toBe(
      'Too many failed attempts: codes from your authenticator app are refused until an administrator unlocks them. A recovery code still works.',
    );
  });

  it('explains an expired enrollment and a policy that forbids turning 2FA off', () => {
    expect(messageFor(problem('enrollment-expired', 409))).toContain('valid for 15 minutes. Start again');
    expect(messageFor(problem('two-factor-required', 403))).toContain('Your administrator requires');
  });

  it('falls back to the service’s own detail for a code it does not know yet', () => {
    expect(messageFor(problem('something-new', 409, null, 'the widget is busy'))).toBe(
      'The widget is busy. Try again, or reload the page.',
    );
  });
});

describe('durations', () => {
  it.each([
    [1, '1 second'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [61, '2 minutes'],
    [3599, '60 minutes'],
    [3600, '1 hour'],
    [7201, '3 hours'],
  ])('%i s reads "%s"', (seconds, words) => {
    expect(duration(seconds)).toBe(words);
  });
});

describe('time left of a grace period', () => {
  it.each([
    [72 * 3600, '3 days'],
    [71 * 3600, '3 days'],
    [36 * 3600 - 1, '1 day'],
    [24 * 3600, '1 day'],
    [23 * 3600 + 1, '24 hours'],
    [3600, '1 hour'],
    [59 * 60 + 1, '60 minutes'],
    [1, '1 minute'],
  ])('%i s reads "%s"', (seconds, words) => {
    expect(timeLeft(seconds)).toBe(words);
  });
});

describe('tries left before a lock', () => {
  const attempt = (
    attemptsLeft: number,
    lockIsPermanent = false,
    factor: 'app' | 'recovery-codes' = 'app',
  ) => ({
    factor,
    attemptsLeft,
    lockIsPermanent,
    lockedForSeconds: null,
  });

  it('is said from the third failure in a row on, not before, and not once locked', () => {
    expect([4, 3, 2, 1, 0].map((left) => attemptsLeftSentence(attempt(left)))).toEqual([
      null,
      null,
      '2 attempts left before a lock.',
      '1 attempt left before a lock.',
      null,
    ]);
  });

  it('names what a lock for good would shut, and until when', () => {
    expect(attemptsLeftSentence(attempt(1, true, 'recovery-codes'))).toBe(
      '1 attempt left before your recovery codes are locked until you regenerate them or an administrator unlocks them.',
    );
  });
});
