import { expect } from 'vitest';
import { type CallInit, type caller, codeAt, KEYS, type testClock } from './testService.ts';

/** What the flows need of a test service, on a socket (startTestService) or not (buildInjectService). */
export type Calls = {
  readonly call: ReturnType<typeof caller>;
  readonly clock: ReturnType<typeof testClock>;
};

/** One TOTP time step. */
export const STEP = 30_000;

/** A call as the administrator root@example.com: the admin key, X-Actor-Id, and `extra`. */
export const asAdmin = (extra: CallInit = {}): CallInit => ({
  key: KEYS.admin,
  headers: { 'x-actor-id': 'root@example.com' },
  ...extra,
});

/** The user's two-factor routes: `${twoFactorPath(user)}/verify` and so on. */
export const twoFactorPath = (userId: string) => `/v1/users/${encodeURIComponent(userId)}/two-factor`;

let usersMade = 0;
/** A user id no other test of the suite has, so that tests do not depend on each other's state. */
export const freshUserId = () => `user-${++usersMade}@example.com`;

/** Enrollment started (201); the pending secret. */
export async function startEnrollment(t: Calls, userId: string): Promise<string> {
  const started = await t.call('POST', `${twoFactorPath(userId)}/enrollment`, {
    body: { accountName: userId },
  });
  expect(started.status).toBe(201);
  return started.json.secret as string;
}

/**
 * 2FA turned on through the API, as the user's device would: enrollment started and confirmed
 * with a current code. The clock then moves on a step, since the confirming code's step is used up.
 */
export async function enableTwoFactor(t: Calls, userId: string) {
  const secret = await startEnrollment(t, userId);
  const confirmed = await t.call('POST', `${twoFactorPath(userId)}/enrollment/confirm`, {
    body: { code: codeAt(secret, t.clock.now()) },
  });
  expect(confirmed.status).toBe(200);
  t.clock.advance(STEP);
  return { secret, recoveryCodes: confirmed.json.recoveryCodes as string[] };
}
