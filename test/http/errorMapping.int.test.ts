import { beforeEach, describe, expect, it } from 'vitest';
import { injectServiceForSuite } from '../support/injectService.ts';
import { codeAt, KEYS } from '../support/testService.ts';
import { enableTwoFactor, freshUserId, startEnrollment, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * Each refusal of API.md with its status and error code — 409, 422, 423, 429 with Retry-After,
 * 403, 404 — as a client meets it. In process, through app.inject; the flows that succeed are
 * walked end to end, over a socket, in twoFactor.e2e.test.ts and admin.e2e.test.ts.
 */

const t = injectServiceForSuite();
let user: string;
beforeEach(() => {
  user = freshUserId();
});

const base = twoFactorPath;
const enroll = (u = user) => startEnrollment(t, u);
const enable = (u = user) => enableTwoFactor(t, u);

describe('enrollment', () => {
  it('refuses a wrong confirmation code with 422 invalid-code', async () => {
    await enroll();
    const wrong = await t.call('POST', `${base(user)}/enrollment/confirm`, { body: { code: '000000' } });
    expect(wrong.status).toBe(422);
    expect(wrong.json.code).toBe('invalid-code');
  });

  it('refuses to confirm with nothing pending: 409 no-pending-enrollment', async () => {
    const confirm = await t.call('POST', `${base(user)}/enrollment/confirm`, { body: { code: '123456' } });
    expect(confirm.status).toBe(409);
    expect(confirm.json.code).toBe('no-pending-enrollment');
  });

  it('refuses an enrollment older than 15 minutes: 409 enrollment-expired', async () => {
    const secret = await enroll();
    t.clock.advance(15 * 60_000 + 1);
    const confirm = await t.call('POST', `${base(user)}/enrollment/confirm`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(confirm.status).toBe(409);
    expect(confirm.json.code).toBe('enrollment-expired');
  });

  it('refuses to start again while enabled without proof: 409 already-enabled', async () => {
    await enable();
    const again = await t.call('POST', `${base(user)}/enrollment`, { body: { accountName: 'x' } });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('already-enabled');
  });

  it('replaces an authenticator with a current code as proof; a wrong proof is 422', async () => {
    const { secret } = await enable();
    const wrong = await t.call('POST', `${base(user)}/enrollment`, {
      body: { accountName: 'x', code: '000000' },
    });
    expect(wrong.status).toBe(422);
    const started = await t.call('POST', `${base(user)}/enrollment`, {
      body: { accountName: 'x', code: codeAt(secret, t.clock.now()) },
    });
    expect(started.status).toBe(201);
  });
});

describe('sign-in second step', () => {
  it('answers 409 not-enabled for a user without 2FA', async () => {
    const response = await t.call('POST', `${base(user)}/verify`, { body: { code: '123456' } });
    expect(response.status).toBe(409);
    expect(response.json.code).toBe('not-enabled');
  });

  it('locks after 5 failures with 429 and Retry-After, and refuses even a right code while locked', async () => {
    const { secret } = await enable();
    for (let i = 0; i < 4; i++) {
      expect((await t.call('POST', `${base(user)}/verify`, { body: { code: '000000' } })).status).toBe(422);
    }
    expect((await t.call('POST', `${base(user)}/verify`, { body: { code: '000000' } })).status).toBe(422);
    const locked = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(locked.status).toBe(429);
    expect(locked.json.code).toBe('locked');
    expect(locked.headers.get('retry-after')).toBe('60');
    const status = await t.call('GET', base(user));
    expect(status.json.locked).toBe(true);
    expect(status.json.lockedUntil).toBe(new Date(t.clock.now() + 60_000).toISOString());
    t.clock.advance(60_000);
    const after = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(after.status).toBe(200);
  });

  it('locks until an administrator unlocks after 100 consecutive failures: 423', async () => {
    const { secret } = await enable();
    for (let i = 0; i < 100; i++) {
      const response = await t.call('POST', `${base(user)}/verify`, { body: { code: '000000' } });
      expect(response.status).toBe(422);
      t.clock.advance(60 * 60_000);
    }
    const locked = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(locked.status).toBe(423);
    expect(locked.json.code).toBe('locked');
    expect((await t.call('GET', base(user))).json).toMatchObject({ locked: true, lockedUntil: null });
    const unlocked = await t.call('POST', `/v1/admin/users/${encodeURIComponent(user)}/two-factor/unlock`, {
      key: KEYS.admin,
      headers: { 'x-actor-id': 'admin-1' },
    });
    expect(unlocked.status).toBe(200);
    expect(unlocked.json.locked).toBe(false);
    const ok = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(ok.status).toBe(200);
  });
});

describe('recovery codes', () => {
  it('does not take a recovery code, and refuses a wrong TOTP code with 422', async () => {
    const { recoveryCodes } = await enable();
    const withRecovery = await t.call('POST', `${base(user)}/recovery-codes`, {
      body: { recoveryCode: recoveryCodes[0] },
    });
    expect(withRecovery.status).toBe(400);
    const wrong = await t.call('POST', `${base(user)}/recovery-codes`, { body: { code: '000000' } });
    expect(wrong.status).toBe(422);
  });

  it('answers 409 not-enabled when 2FA is off', async () => {
    const response = await t.call('POST', `${base(user)}/recovery-codes`, { body: { code: '123456' } });
    expect(response.status).toBe(409);
  });
});

describe('disable', () => {
  it('is refused with 403 two-factor-required while the instance requires 2FA', async () => {
    const { secret } = await enable();
    const admin = { key: KEYS.admin, headers: { 'x-actor-id': 'admin-1' } };
    await t.call('PUT', '/v1/admin/policy', { ...admin, body: { requireTwoFactor: true } });
    try {
      expect((await t.call('GET', base(user))).json).toMatchObject({ required: true, canDisable: false });
      const off = await t.call('POST', `${base(user)}/disable`, {
        body: { code: codeAt(secret, t.clock.now()) },
      });
      expect(off.status).toBe(403);
      expect(off.json.code).toBe('two-factor-required');
    } finally {
      await t.call('PUT', '/v1/admin/policy', { ...admin, body: { requireTwoFactor: false } });
    }
  });

  it('answers 409 not-enabled when 2FA is off', async () => {
    const response = await t.call('POST', `${base(user)}/disable`, { body: { code: '123456' } });
    expect(response.status).toBe(409);
    expect(response.json.code).toBe('not-enabled');
  });
});

describe('operations', () => {
  it('answers unknown routes with a 404 problem', async () => {
    const response = await t.call('GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.json.code).toBe('not-found');
  });
});
