import { KEYS, type TestService } from '../support/testService.ts';

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
