import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import {
  enableTwoFactor,
  freshUserId,
  STEP,
  startEnrollment,
  twoFactorPath,
} from '../support/twoFactorFlows.ts';

let t: TestService;
let user: string;

beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});
beforeEach(() => {
  user = freshUserId();
});

const base = twoFactorPath;
const enroll = (u = user) => startEnrollment(t, u);
const enable = (u = user) => enableTwoFactor(t, u);

describe('status', () => {
  it('reports a user never seen as disabled', async () => {
    const status = await t.call('GET', base(user));
    expect(status.status).toBe(200);
    expect(status.json).toEqual({
      userId: user,
      status: 'disabled',
      enabledAt: null,
      recoveryCodesRemaining: 0,
      authenticators: 0,
      locked: false,
      lockedUntil: null,
      recoveryCodesLocked: false,
      recoveryCodesLockedUntil: null,
      required: false,
      enrollmentRequired: false,
      enrollBy: null,
      canDefer: false,
      canDisable: false,
    });
  });
});

describe('enrollment', () => {
  it('returns a secret, an otpauth URI and a PNG QR code, and shows the user as pending', async () => {
    const started = await t.call('POST', `${base(user)}/enrollment`, {
      body: { accountName: 'ada@example.com' },
    });
    expect(started.status).toBe(201);
    expect(started.json.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.json.otpauthUri).toBe(
      `otpauth://totp/Usertour:ada%40example.com?issuer=Usertour&secret=${started.json.secret}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(started.json.qrCode).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(started.json.qrCode.split(',')[1], 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(Date.parse(started.json.expiresAt) - t.clock.now()).toBe(15 * 60_000);
    expect((await t.call('GET', base(user))).json.status).toBe('pending');
  });

  it('replaces the pending secret when started again', async () => {
    const first = await enroll();
    const second = await enroll();
    expect(second).not.toBe(first);
    const stale = await t.call('POST', `${base(user)}/enrollment/confirm`, {
      body: { code: codeAt(first, t.clock.now()) },
    });
    expect(stale.status).toBe(422);
    const fresh = await t.call('POST', `${base(user)}/enrollment/confirm`, {
      body: { code: codeAt(second, t.clock.now()) },
    });
    expect(fresh.status).toBe(200);
  });

  it('confirms with a current code and returns ten recovery codes once', async () => {
    const secret = await enroll();
    const confirmed = await t.call('POST', `${base(user)}/enrollment/confirm`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.status).toBe('enabled');
    expect(confirmed.json.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.json.recoveryCodes).size).toBe(10);
    for (const code of confirmed.json.recoveryCodes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
    const status = await t.call('GET', base(user));
    expect(status.json).toMatchObject({
      status: 'enabled',
      enabledAt: new Date(t.clock.now()).toISOString(),
      recoveryCodesRemaining: 10,
      canDisable: true,
    });
  });

  it('replaces a lost authenticator with a recovery code as proof, even while 2FA is required', async () => {
    const { secret: old, recoveryCodes } = await enable();
    await t.call('PUT', '/v1/admin/policy', {
      key: KEYS.admin,
      headers: { 'x-actor-id': 'admin-1' },
      body: { requireTwoFactor: true },
    });
    try {
      const started = await t.call('POST', `${base(user)}/enrollment`, {
        body: { accountName: 'new phone', recoveryCode: recoveryCodes[0] },
      });
      expect(started.status).toBe(201);
      const confirmed = await t.call('POST', `${base(user)}/enrollment/confirm`, {
        body: { code: codeAt(started.json.secret, t.clock.now()) },
      });
      expect(confirmed.status).toBe(200);
      t.clock.advance(STEP);
      const oldCode = await t.call('POST', `${base(user)}/verify`, {
        body: { code: codeAt(old, t.clock.now()) },
      });
      expect(oldCode.status).toBe(422);
      const oldRecovery = await t.call('POST', `${base(user)}/verify`, {
        body: { recoveryCode: recoveryCodes[1] },
      });
      expect(oldRecovery.status).toBe(422);
      const newCode = await t.call('POST', `${base(user)}/verify`, {
        body: { code: codeAt(started.json.secret, t.clock.now()) },
      });
      expect(newCode.status).toBe(200);
    } finally {
      await t.call('PUT', '/v1/admin/policy', {
        key: KEYS.admin,
        headers: { 'x-actor-id': 'admin-1' },
        body: { requireTwoFactor: false },
      });
    }
  });
});

describe('sign-in second step', () => {
  it('accepts a current code once, never again, and never an older one', async () => {
    const { secret } = await enable();
    const code = codeAt(secret, t.clock.now());
    const first = await t.call('POST', `${base(user)}/verify`, { body: { code } });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      verified: true,
      method: 'totp',
      authenticatorId: expect.stringMatching(/^auth_/),
      recoveryCodesRemaining: 10,
    });
    const again = await t.call('POST', `${base(user)}/verify`, { body: { code } });
    expect(again.status).toBe(422);
    expect(again.json.code).toBe('code-already-used');
    const older = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now() - STEP) },
    });
    expect(older.status).toBe(422);
    expect(older.json.code).toBe('invalid-code');
  });

  it('answers a double submit as already used, and does not count it towards the lockout', async () => {
    const { secret } = await enable();
    const code = codeAt(secret, t.clock.now());
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => t.call('POST', `${base(user)}/verify`, { body: { code } })),
    );
    const codes = answers.map((a) => (a.status === 200 ? 'ok' : `${a.status} ${a.json.code}`));
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c !== 'ok')).toEqual(Array(29).fill('422 code-already-used'));
    const status = await t.call('GET', base(user));
    expect(status.json.locked).toBe(false);
    t.clock.advance(STEP);
    const next = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(next.status).toBe(200);
  });

  it('accepts a recovery code once, case-insensitively, ignoring spaces and dashes', async () => {
    const { recoveryCodes } = await enable();
    const [first = '', second = ''] = recoveryCodes;
    const used = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: first } });
    expect(used.status).toBe(200);
    expect(used.json).toEqual({
      verified: true,
      method: 'recovery-code',
      authenticatorId: null,
      recoveryCodesRemaining: 9,
    });
    const reused = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: first } });
    expect(reused.status).toBe(422);
    const messy = ` ${second.toUpperCase().replace('-', ' ')} `;
    const sloppy = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: messy } });
    expect(sloppy.status).toBe(200);
    expect(sloppy.json.recoveryCodesRemaining).toBe(8);
  });
});

describe('recovery codes', () => {
  it('regenerates ten new codes with a current TOTP code; the old ones stop working', async () => {
    const { secret, recoveryCodes } = await enable();
    const fresh = await t.call('POST', `${base(user)}/recovery-codes`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(fresh.status).toBe(200);
    expect(fresh.json.recoveryCodes).toHaveLength(10);
    const old = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: recoveryCodes[0] } });
    expect(old.status).toBe(422);
    const next = await t.call('POST', `${base(user)}/verify`, {
      body: { recoveryCode: fresh.json.recoveryCodes[0] },
    });
    expect(next.status).toBe(200);
  });
});

describe('disable', () => {
  it('disables with a current code', async () => {
    const { secret } = await enable();
    const off = await t.call('POST', `${base(user)}/disable`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(off.status).toBe(200);
    expect(off.json).toEqual({ status: 'disabled' });
    expect((await t.call('GET', base(user))).json.status).toBe('disabled');
  });

  it('disables with a recovery code; a wrong one is 422', async () => {
    const { recoveryCodes } = await enable();
    expect(
      (await t.call('POST', `${base(user)}/disable`, { body: { recoveryCode: 'aaaaa-aaaaa' } })).status,
    ).toBe(422);
    const off = await t.call('POST', `${base(user)}/disable`, { body: { recoveryCode: recoveryCodes[3] } });
    expect(off.status).toBe(200);
  });
});
