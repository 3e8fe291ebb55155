import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, freshUserId, STEP, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * Several authenticator apps per user, as the web API meets them over a real socket: every
 * route of /two-factor/authenticators and every error it answers.
 */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t?.stop());

const list = (user: string) => `${twoFactorPath(user)}/authenticators`;

async function authenticatorsOf(user: string) {
  const answer = await t.call('GET', list(user));
  expect(answer.status).toBe(200);
  return answer.json.authenticators as {
    id: string;
    name: string;
    addedAt: string;
    lastUsedAt: string | null;
  }[];
}

/** Adds and confirms a second authenticator, proven with the first one's current code. */
async function addSecond(user: string, firstSecret: string, name = 'Backup phone') {
  const added = await t.call('POST', list(user), {
    body: { name, code: codeAt(firstSecret, t.clock.now()) },
  });
  expect(added.status).toBe(201);
  const confirmed = await t.call('POST', `${list(user)}/${added.json.authenticatorId}/confirm`, {
    body: { code: codeAt(added.json.secret, t.clock.now()) },
  });
  expect(confirmed.status).toBe(200);
  t.clock.advance(STEP);
  return { id: added.json.authenticatorId as string, secret: added.json.secret as string };
}

describe('GET …/authenticators', () => {
  it('lists the enrollment’s authenticator, named "Authenticator app", never used until a sign-in', async () => {
    const user = freshUserId();
    expect(await authenticatorsOf(user)).toEqual([]);
    const { secret } = await enableTwoFactor(t, user);
    const [first] = await authenticatorsOf(user);
    expect(first).toEqual({
      id: expect.stringMatching(/^auth_[0-9a-f]{16}$/),
      name: 'Authenticator app',
      addedAt: new Date(t.clock.now() - STEP).toISOString(),
      lastUsedAt: null,
    });
    const signIn = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(signIn.json).toMatchObject({ verified: true, method: 'totp', authenticatorId: first!.id });
    expect((await authenticatorsOf(user))[0]!.lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
  });

  it('names the enrollment’s authenticator as the caller asks', async () => {
    const user = freshUserId();
    const started = await t.call('POST', `${twoFactorPath(user)}/enrollment`, {
      body: { accountName: user, authenticatorName: '  Ada’s phone ' },
    });
    expect(started.status).toBe(201);
    await t.call('POST', `${twoFactorPath(user)}/enrollment/confirm`, {
      body: { code: codeAt(started.json.secret, t.clock.now()) },
    });
    expect((await authenticatorsOf(user)).map((a) => a.name)).toEqual(['Ada’s phone']);
  });
});

describe('adding a second authenticator and signing in with each', () => {
  it('both sign in, each answered by its id, the status counts two, and each keeps its own step', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const added = await t.call('POST', list(user), {
      body: { name: 'Backup phone', accountName: 'ada@example.com', code: codeAt(secret, t.clock.now()) },
    });
    expect(added.status).toBe(201);
    expect(added.json).toEqual({
      authenticatorId: expect.stringMatching(/^auth_[0-9a-f]{16}$/),
      name: 'Backup phone',
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      otpauthUri: expect.stringMatching(
        /^otpauth:\/\/totp\/Usertour:ada%40example\.com\?.*secret=[A-Z2-7]{32}/,
      ),
      qrCode: expect.stringMatching(/^data:image\/png;base64,/),
      expiresAt: new Date(t.clock.now() + 15 * 60_000).toISOString(),
    });
    // Pending until its first code: not listed, not counted, its codes not accepted.
    expect(await authenticatorsOf(user)).toHaveLength(1);
    const confirmed = await t.call('POST', `${list(user)}/${added.json.authenticatorId}/confirm`, {
      body: { code: codeAt(added.json.secret, t.clock.now()) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json).toEqual({
      id: added.json.authenticatorId,
      name: 'Backup phone',
      addedAt: new Date(t.clock.now()).toISOString(),
      lastUsedAt: null,
    });
    t.clock.advance(STEP);
    const [first, second] = await authenticatorsOf(user);
    expect(second!.id).toBe(added.json.authenticatorId);

    // The same time step, from each device: both accepted, each named.
    const now = t.clock.now();
    const byFirst = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(secret, now) },
    });
    const bySecond = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(added.json.secret, now) },
    });
    expect([byFirst.status, byFirst.json.authenticatorId]).toEqual([200, first!.id]);
    expect([bySecond.status, bySecond.json.authenticatorId]).toEqual([200, second!.id]);
    // …and each code only once.
    const again = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(added.json.secret, now) },
    });
    expect([again.status, again.json.code]).toEqual([422, 'code-already-used']);
    const status = await t.call('GET', twoFactorPath(user));
    expect(status.json).toMatchObject({ status: 'enabled', authenticators: 2 });
  });

  it('a recovery code proves an addition too, and is consumed by it', async () => {
    const user = freshUserId();
    const { recoveryCodes } = await enableTwoFactor(t, user);
    const added = await t.call('POST', list(user), {
      body: { name: 'Tablet', recoveryCode: recoveryCodes[0] },
    });
    expect(added.status).toBe(201);
    const status = await t.call('GET', twoFactorPath(user));
    expect(status.json.recoveryCodesRemaining).toBe(9);
  });
});

describe('POST …/authenticators: what it refuses', () => {
  it('malformed: no proof, both proofs, a bad name', async () => {
    const user = freshUserId();
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    const code = codeAt(secret, t.clock.now());
    for (const body of [
      { name: 'Phone' },
      { name: 'Phone', code, recoveryCode: recoveryCodes[0] },
      { name: '', code },
      { name: '   ', code },
      { name: 'x'.repeat(65), code },
      { name: 'Phone\u202egnp.exe', code },
      { name: 42, code },
      { name: 'Phone', code, extra: true },
    ]) {
      const answer = await t.call('POST', list(user), { body });
      expect([answer.status, answer.json.code], JSON.stringify(body)).toEqual([400, 'invalid-request']);
    }
    // Nothing was spent: the code still works.
    const signIn = await t.call('POST', `${twoFactorPath(user)}/verify`, { body: { code } });
    expect(signIn.status).toBe(200);
  });

  it('a user without 2FA: not-enabled', async () => {
    const answer = await t.call('POST', list(freshUserId()), { body: { name: 'Phone', code: '123456' } });
    expect([answer.status, answer.json.code]).toEqual([409, 'not-enabled']);
  });

  it('a wrong code: invalid-code, counted against the app', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const wrong = codeAt(secret, t.clock.now() + 10 * STEP);
    const answer = await t.call('POST', list(user), { body: { name: 'Phone', code: wrong } });
    expect([answer.status, answer.json.code]).toEqual([422, 'invalid-code']);
    // The fifth failure of the app locks it, however the first was presented.
    for (let n = 0; n < 4; n++) {
      await t.call('POST', `${twoFactorPath(user)}/verify`, { body: { code: wrong } });
    }
    expect((await t.call('GET', twoFactorPath(user))).json.locked).toBe(true);
  });

  it('a name another authenticator has, in any case: authenticator-name-taken, and the code is not spent', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const code = codeAt(secret, t.clock.now());
    const answer = await t.call('POST', list(user), { body: { name: 'AUTHENTICATOR APP', code } });
    expect([answer.status, answer.json.code]).toEqual([409, 'authenticator-name-taken']);
    const signIn = await t.call('POST', `${twoFactorPath(user)}/verify`, { body: { code } });
    expect(signIn.status).toBe(200);
  });

  it('a sixth: too-many-authenticators', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    for (let n = 2; n <= 5; n++) await addSecond(user, secret, `Device ${n}`);
    expect(await authenticatorsOf(user)).toHaveLength(5);
    const answer = await t.call('POST', list(user), {
      body: { name: 'Device 6', code: codeAt(secret, t.clock.now()) },
    });
    expect([answer.status, answer.json.code]).toEqual([409, 'too-many-authenticators']);
  });

  it('while the app is locked: locked, with Retry-After', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    for (let n = 0; n < 5; n++) {
      await t.call('POST', `${twoFactorPath(user)}/verify`, {
        body: { code: codeAt(secret, t.clock.now() + 20 * STEP) },
      });
    }
    const answer = await t.call('POST', list(user), {
      body: { name: 'Phone', code: codeAt(secret, t.clock.now()) },
    });
    expect([answer.status, answer.json.code]).toEqual([429, 'locked']);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('POST …/authenticators/{id}/confirm: what it refuses', () => {
  it('a wrong code, another id, a malformed id, and after 15 minutes', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const added = await t.call('POST', list(user), {
      body: { name: 'Phone', code: codeAt(secret, t.clock.now()) },
    });
    const confirm = (id: string, code: string) =>
      t.call('POST', `${list(user)}/${id}/confirm`, { body: { code } });
    const wrong = await confirm(
      added.json.authenticatorId,
      codeAt(added.json.secret, t.clock.now() + 10 * STEP),
    );
    expect([wrong.status, wrong.json.code]).toEqual([422, 'invalid-code']);
    const other = await confirm('auth_0000000000000000', codeAt(added.json.secret, t.clock.now()));
    expect([other.status, other.json.code]).toEqual([409, 'no-pending-enrollment']);
    const malformed = await confirm('not-an-id', '123456');
    expect([malformed.status, malformed.json.code]).toEqual([400, 'invalid-request']);
    t.clock.advance(15 * 60_000);
    const late = await confirm(added.json.authenticatorId, codeAt(added.json.secret, t.clock.now()));
    expect([late.status, late.json.code]).toEqual([409, 'enrollment-expired']);
    expect(await authenticatorsOf(user)).toHaveLength(1);
  });
});

describe('PATCH …/authenticators/{id}', () => {
  it('renames without a code; a taken name, an unknown id and a bad name are refused', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const second = await addSecond(user, secret);
    const rename = (id: string, name: unknown) => t.call('PATCH', `${list(user)}/${id}`, { body: { name } });
    const renamed = await rename(second.id, 'Old phone');
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id: second.id, name: 'Old phone' });
    const taken = await rename(second.id, 'authenticator app');
    expect([taken.status, taken.json.code]).toEqual([409, 'authenticator-name-taken']);
    const unknown = await rename('auth_0000000000000000', 'Anything');
    expect([unknown.status, unknown.json.code]).toEqual([404, 'authenticator-not-found']);
    const bad = await rename(second.id, '');
    expect([bad.status, bad.json.code]).toEqual([400, 'invalid-request']);
    expect((await authenticatorsOf(user)).map((a) => a.name)).toEqual(['Authenticator app', 'Old phone']);
  });
});

describe('DELETE …/authenticators/{id}', () => {
  it('removes one with a code; its codes stop working; the others go on', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const second = await addSecond(user, secret);
    const removed = await t.call('DELETE', `${list(user)}/${second.id}`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(removed.status).toBe(200);
    expect(removed.json).toEqual({ status: 'enabled', authenticators: 1 });
    t.clock.advance(STEP);
    const byRemoved = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(second.secret, t.clock.now()) },
    });
    expect([byRemoved.status, byRemoved.json.code]).toEqual([422, 'invalid-code']);
    const byFirst = await t.call('POST', `${twoFactorPath(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(byFirst.status).toBe(200);
  });

  it('removing the last one disables 2FA; while 2FA is required it is refused and nothing is spent', async () => {
    const user = freshUserId();
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    const [only] = await authenticatorsOf(user);
    await t.call('PUT', '/v1/admin/policy', asAdmin({ body: { requireTwoFactor: true } }));
    try {
      const refused = await t.call('DELETE', `${list(user)}/${only!.id}`, {
        body: { recoveryCode: recoveryCodes[0] },
      });
      expect([refused.status, refused.json.code]).toEqual([403, 'two-factor-required']);
      expect((await t.call('GET', twoFactorPath(user))).json.recoveryCodesRemaining).toBe(10);
    } finally {
      await t.call('PUT', '/v1/admin/policy', asAdmin({ body: { requireTwoFactor: false } }));
    }
    const removed = await t.call('DELETE', `${list(user)}/${only!.id}`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(removed.json).toEqual({ status: 'disabled', authenticators: 0 });
    expect((await t.call('GET', twoFactorPath(user))).json).toMatchObject({
      status: 'disabled',
      authenticators: 0,
    });
  });

  it('a wrong code, an unknown id, no proof, and a user without 2FA are refused', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const second = await addSecond(user, secret);
    const wrong = await t.call('DELETE', `${list(user)}/${second.id}`, {
      body: { code: codeAt(secret, t.clock.now() + 10 * STEP) },
    });
    expect([wrong.status, wrong.json.code]).toEqual([422, 'invalid-code']);
    const unknown = await t.call('DELETE', `${list(user)}/auth_0000000000000000`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect([unknown.status, unknown.json.code]).toEqual([404, 'authenticator-not-found']);
    const noProof = await t.call('DELETE', `${list(user)}/${second.id}`, { body: {} });
    expect([noProof.status, noProof.json.code]).toEqual([400, 'invalid-request']);
    const withoutTwoFactor = await t.call('DELETE', `${list(freshUserId())}/${second.id}`, {
      body: { code: '123456' },
    });
    expect([withoutTwoFactor.status, withoutTwoFactor.json.code]).toEqual([409, 'not-enabled']);
    expect(await authenticatorsOf(user)).toHaveLength(2);
  });

  it('needs the web role', async () => {
    const answer = await t.call('DELETE', `${list('ada')}/auth_1`, {
      key: KEYS.audit,
      body: { code: '123456' },
    });
    expect([answer.status, answer.json.code]).toEqual([403, 'forbidden']);
  });
});

type Note = { userId: string; kind: string; details: Record<string, unknown> };

/** The whole feed, page by page. */
async function everyNotification(): Promise<Note[]> {
  const all: Note[] = [];
  let after = '';
  for (let page = 0; page < 100; page++) {
    const answer = await t.call('GET', `/v1/notifications?limit=100${after}`);
    expect(answer.status).toBe(200);
    all.push(...(answer.json.notifications as Note[]));
    if (answer.json.notifications.length < 100 || answer.json.nextAfter === null) return all;
    after = `&after=${answer.json.nextAfter}`;
  }
  throw new Error('the feed did not end within 100 pages');
}

describe('what the security team and the user are told', () => {
  it('the admin list counts, notifications and audit records name the device, and no secret is anywhere', async () => {
    const user = freshUserId();
    const { secret } = await enableTwoFactor(t, user);
    const second = await addSecond(user, secret, 'Work phone');
    await t.call('DELETE', `${list(user)}/${second.id}`, { body: { code: codeAt(secret, t.clock.now()) } });

    const feed = await eventually(async () => {
      const mine = (await everyNotification())
        .filter((n) => n.userId === user && n.kind.startsWith('authenticator-'))
        .map((n) => [n.kind, n.details.authenticatorId, n.details.authenticatorName]);
      return mine.length >= 2 ? mine : undefined;
    }, 'the notifications of the added and removed device');
    expect(feed).toEqual([
      ['authenticator-added', second.id, 'Work phone'],
      ['authenticator-removed', second.id, 'Work phone'],
    ]);
    const row = await eventually(async () => {
      const users = await t.call('GET', '/v1/admin/users?status=enabled&limit=100', { key: KEYS.admin });
      const found = (users.json.users as { userId: string; authenticators: number }[]).find(
        (u) => u.userId === user,
      );
      return found?.authenticators === 1 ? found : undefined;
    }, 'the admin list to count one authenticator after the removal');
    expect(row.authenticators).toBe(1);
    const audit = await t.call('GET', `/v1/audit/events?userId=${encodeURIComponent(user)}`, {
      key: KEYS.audit,
    });
    const records = audit.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; details: Record<string, unknown> });
    expect(records.find((r) => r.type === 'AuthenticatorConfirmed')?.details).toMatchObject({
      authenticatorId: second.id,
      authenticatorName: 'Work phone',
    });
    expect(audit.text).not.toContain(second.secret);
    expect(t.logs.join('\n')).not.toContain(second.secret);
  });
});

describe('an erasure of a user who named their authenticators', () => {
  it('says that the names stay readable; a user who named none is told only of the user id', async () => {
    const named = freshUserId();
    const { secret } = await enableTwoFactor(t, named);
    await addSecond(named, secret, 'Ada’s iPhone');
    const unnamed = freshUserId();
    await enableTwoFactor(t, unnamed);
    const erase = (user: string) =>
      t.call(
        'POST',
        `/v1/admin/users/${encodeURIComponent(user)}/erase`,
        asAdmin({ body: { reason: 'erasure request' } }),
      );
    expect((await erase(named)).json).toEqual({
      status: 'disabled',
      erased: true,
      retained: ['userId', 'authenticatorName'],
    });
    expect((await erase(unnamed)).json).toEqual({ status: 'disabled', erased: true, retained: ['userId'] });
    expect(await authenticatorsOf(named)).toEqual([]);
  });
});
