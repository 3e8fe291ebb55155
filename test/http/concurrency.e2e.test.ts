import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { enableTwoFactor } from '../support/twoFactorFlows.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

const ATTEMPTS = 50;

const enable = (user: string) => enableTwoFactor(t, user);

const statuses = async (requests: Promise<{ status: number }>[]) =>
  (await Promise.all(requests)).map((r) => r.status);

describe('single use under concurrency', () => {
  it(`accepts one recovery code exactly once among ${ATTEMPTS} simultaneous verifies`, async () => {
    const { recoveryCodes } = await enable('race-recovery');
    const body = { recoveryCode: recoveryCodes[0] };
    const results = await statuses(
      Array.from({ length: ATTEMPTS }, () =>
        t.call('POST', '/v1/users/race-recovery/two-factor/verify', { body }),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(1);
    // The losers are told the code is used (422) or, once five of them failed, that the factor is locked (429).
    expect(results.every((s) => s === 200 || s === 422 || s === 429)).toBe(true);
  });

  it(`accepts one TOTP code exactly once among ${ATTEMPTS} simultaneous verifies`, async () => {
    const { secret } = await enable('race-totp');
    const body = { code: codeAt(secret, t.clock.now()) };
    const results = await statuses(
      Array.from({ length: ATTEMPTS }, () =>
        t.call('POST', '/v1/users/race-totp/two-factor/verify', { body }),
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(1);
    expect(results.every((s) => s === 200 || s === 422 || s === 429)).toBe(true);
  });
});
