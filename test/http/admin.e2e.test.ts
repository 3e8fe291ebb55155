import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin as admin, enableTwoFactor } from '../support/twoFactorFlows.ts';

let t: TestService;
let n = 0;
let user: string;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(() => {
  user = `admin-case-${++n}`;
});

const enable = (u: string) => enableTwoFactor(t, u);

describe('emergency reset', () => {
  it('turns an enabled user into a disabled one whose authenticator and codes stop working', async () => {
    const { secret, recoveryCodes } = await enable(user);
    const reset = await t.call(
      'POST',
      `/v1/admin/users/${user}/two-factor/reset`,
      admin({ body: { reason: 'lost phone, ticket 42' } }),
    );
    expect(reset.status).toBe(200);
    expect(reset.json).toEqual({ status: 'disabled' });
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');
    const code = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(code.status).toBe(409);
    const recovery = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
      body: { recoveryCode: recoveryCodes[0] },
    });
    expect(recovery.status).toBe(409);
    // The user enrolls again from scratch.
    const again = await t.call('POST', `/v1/users/${user}/two-factor/enrollment`, {
      body: { accountName: user },
    });
    expect(again.status).toBe(201);
  });

  it('is recorded and harmless for a user without 2FA', async () => {
    const reset = await t.call(
      'POST',
      `/v1/admin/users/${user}/two-factor/reset`,
      admin({ body: { reason: 'check' } }),
    );
    expect(reset.status).toBe(200);
  });
});

describe('unlock', () => {
  it('clears a temporary lockout', async () => {
    const { secret } = await enable(user);
    for (let i = 0; i < 5; i++)
      await t.call('POST', `/v1/users/${user}/two-factor/verify`, { body: { code: '000000' } });
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.locked).toBe(true);
    const unlocked = await t.call('POST', `/v1/admin/users/${user}/two-factor/unlock`, admin());
    expect(unlocked.status).toBe(200);
    const ok = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(ok.status).toBe(200);
  });
});

describe('policy', () => {
  it('starts not requiring 2FA, and records who changed it and when', async () => {
    const initial = await t.call('GET', '/v1/admin/policy', { key: KEYS.admin });
    expect(initial.status).toBe(200);
    expect(initial.json.requireTwoFactor).toBe(false);
    const changed = await t.call('PUT', '/v1/admin/policy', admin({ body: { requireTwoFactor: true } }));
    expect(changed.status).toBe(200);
    expect(changed.json).toEqual({
      requireTwoFactor: true,
      gracePeriodHours: 0,
      requiredSince: new Date(t.clock.now()).toISOString(),
      updatedAt: new Date(t.clock.now()).toISOString(),
      updatedBy: 'root@example.com',
    });
    expect((await t.call('GET', '/v1/admin/policy', { key: KEYS.admin })).json).toEqual(changed.json);
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.required).toBe(true);
    const back = await t.call('PUT', '/v1/admin/policy', admin({ body: { requireTwoFactor: false } }));
    expect(back.json.requireTwoFactor).toBe(false);
  });
});

describe('audit: status at a past moment', () => {
  it('rebuilds the status as it stood before and after enabling', async () => {
    const before = new Date(t.clock.now()).toISOString();
    t.clock.advance(1000);
    await enable(user);
    const after = new Date(t.clock.now()).toISOString();
    const then = await t.call('GET', `/v1/audit/users/${user}/two-factor?at=${before}`, { key: KEYS.audit });
    expect(then.status).toBe(200);
    expect(then.json.status).toBe('disabled');
    const now = await t.call('GET', `/v1/audit/users/${user}/two-factor?at=${after}`, { key: KEYS.audit });
    expect(now.json).toMatchObject({ status: 'enabled', recoveryCodesRemaining: 10 });
  });
});
