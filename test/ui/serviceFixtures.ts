import { expect } from 'vitest';
import { codeAt, KEYS, type TestService } from '../support/testService.ts';

/** 2FA turned on through the API, as the user's other device would have done; the clock moves on a step. */
export async function enableThroughApi(t: TestService, userId: string) {
  const started = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment`, {
    body: { accountName: userId },
  });
  const secret: string = started.json.secret;
  const confirmed = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment/confirm`, {
    body: { code: codeAt(secret, t.clock.now()) },
  });
  expect(confirmed.status).toBe(200);
  t.clock.advance(30_000);
  return { secret, recoveryCodes: confirmed.json.recoveryCodes as string[] };
}

/**
 * The user's first audit record of `type`, or undefined while the audit read model (which lags
 * slightly behind commands) does not have it yet: for `expect.poll`.
 */
export async function auditRecord(t: TestService, userId: string, type: string) {
  const history = await t.call('GET', `/v1/audit/events?userId=${encodeURIComponent(userId)}`, {
    key: KEYS.audit,
  });
  return history.text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .find((record) => record.type === type);
}
