import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, STEP } from '../support/twoFactorFlows.ts';
import { auditRecord } from './serviceFixtures.ts';
import { uiClient } from './uiClient.ts';

let t: TestService;
let n = 0;
const freshUser = () => `session-user-${++n}`;

beforeAll(async () => {
  t = await startTestService({ env: { UI_ADMINS: 'root,chief,boss,deputy' } });
});
afterAll(async () => {
  await t?.stop();
});

describe('the session cookie', () => {
  it('is never made before a sign-in: a visitor gets only the sign-in form’s token, in a cookie of its own', async () => {
    const client = uiClient(t.url);
    const first = await client.call('GET', '/ui/api/session');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      stage: 'anonymous',
      userId: null,
      admin: false,
      mustEnroll: false,
      productName: 'Usertour',
      firstStep: 'demo',
    });
    expect(first.setCookies).toHaveLength(1);
    expect(first.setCookies[0]).toMatch(/^tf_signin=[A-Za-z0-9_.-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(first.json.csrfToken).toBe(client.cookie('tf_signin'));
    expect(first.headers['cache-control']).toBe('no-store');
    // The same browser keeps its token; nothing new is set.
    const again = await client.call('GET', '/ui/api/session');
    expect(again.setCookies).toEqual([]);
    expect(again.json.csrfToken).toBe(first.json.csrfToken);
  });

  it('is made at sign-in: HttpOnly, SameSite=Strict and scoped to the whole site', async () => {
    const client = uiClient(t.url);
    const signedIn = await client.signIn('ada');
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.json).toMatchObject({ stage: 'signed-in', userId: 'ada' });
    expect(signedIn.setCookies).toEqual([
      expect.stringMatching(/^tf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/),
    ]);
    expect(signedIn.json.csrfToken).not.toBe(client.cookie('tf_signin'));
    expect((await client.call('GET', '/ui/api/account/two-factor')).status).toBe(200);
  });

  it('ends at sign-out', async () => {
    const client = uiClient(t.url);
    await client.signIn('bob');
    const signedIn = client.cookieHeader;
    const out = await client.call('POST', '/ui/api/session/sign-out', { body: {} });
    expect(out.json).toMatchObject({ stage: 'anonymous', userId: null });
    expect(out.setCookies).toContainEqual(expect.stringMatching(/^tf_session=; Max-Age=0;/));
    expect(client.cookie()).toBeUndefined();
    expect((await client.call('GET', '/ui/api/account/two-factor', { cookie: signedIn })).status).toBe(401);
  });
});

describe('CSRF protection', () => {
  it('refuses a sign-in without the form’s token, with a token it did not issue, or from another site', async () => {
    const client = uiClient(t.url);
    const other = uiClient(t.url);
    await client.call('GET', '/ui/api/session');
    await other.call('GET', '/ui/api/session');
    const [nonce, issued] = client.csrfToken.split('.');
    const forged = `${nonce}.${issued}.${'A'.repeat(43)}`;
    const attempts = [
      await client.call('POST', '/ui/api/session', { body: { userId: 'mallory' }, csrf: false }),
      await client.call('POST', '/ui/api/session', { body: { userId: 'mallory' }, csrf: other.csrfToken }),
      // A double submit of a token this service never signed: equal in cookie and header, still refused.
      await client.call('POST', '/ui/api/session', {
        body: { userId: 'mallory' },
        cookie: `tf_signin=${forged}`,
        csrf: forged,
      }),
      await client.call('POST', '/ui/api/session', {
        body: { userId: 'mallory' },
        headers: { origin: 'https://evil.example' },
      }),
      await client.call('POST', '/ui/api/session', {
        body: { userId: 'mallory' },
        headers: { 'sec-fetch-site': 'cross-site' },
      }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status, attempt.text).toBe(403);
      expect(attempt.json).toMatchObject({
        code: 'forbidden',
        title: 'The request did not come from this page',
      });
      expect(attempt.headers['content-type']).toContain('application/problem+json');
      expect(attempt.setCookies).toEqual([]);
    }
    expect((await client.call('GET', '/ui/api/session')).json.stage).toBe('anonymous');
    expect((await client.call('POST', '/ui/api/session', { body: { userId: 'mallory' } })).status).toBe(200);
  });

  it('refuses a change with another session’s token', async () => {
    const client = uiClient(t.url);
    const other = uiClient(t.url);
    await client.signIn(freshUser());
    await other.signIn(freshUser());
    const refused = await client.call('POST', '/ui/api/account/two-factor/enrollment', {
      body: {},
      csrf: other.csrfToken,
    });
    expect(refused.status).toBe(403);
  });

  it('refuses form posts (the only cross-site request a page elsewhere could send without CORS)', async () => {
    const client = uiClient(t.url);
    await client.signIn(freshUser());
    const form = await client.call('POST', '/ui/api/account/two-factor/enrollment', {
      body: 'accountName=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('asks a browser without a session to sign in first, in those words', async () => {
    const client = uiClient(t.url);
    for (const [method, path] of [
      ['GET', '/ui/api/account/two-factor'],
      ['POST', '/ui/api/account/two-factor/enrollment'],
      ['GET', '/ui/api/admin/policy'],
    ] as const) {
      const answer = await client.call(method, path, method === 'POST' ? { body: {} } : {});
      expect(answer.status, path).toBe(401);
      expect(answer.json).toMatchObject({ code: 'unauthenticated', title: 'Sign in first' });
      expect(answer.text).not.toMatch(/API key/i);
    }
  });
});

describe('the second step', () => {
  it('keeps a user with 2FA out of the account until a code is verified', async () => {
    const userId = freshUser();
    const { secret } = await enableTwoFactor(t, userId);
    const client = uiClient(t.url);
    const first = await client.signIn(userId);
    expect(first.json).toMatchObject({ stage: 'second-step', userId, admin: false });
    expect((await client.call('GET', '/ui/api/account/two-factor')).status).toBe(401);
    expect(
      (await client.call('POST', '/ui/api/account/two-factor/disable', { body: { code: '000000' } })).status,
    ).toBe(401);

    const wrong = await client.call('POST', '/ui/api/session/verify', { body: { code: '000000' } });
    expect(wrong.status).toBe(422);
    expect(wrong.json.code).toBe('invalid-code');
    expect((await client.call('GET', '/ui/api/session')).json.stage).toBe('second-step');

    const halfway = client.cookie();
    const right = await client.call('POST', '/ui/api/session/verify', {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(right.status, right.text).toBe(200);
    expect(right.json).toMatchObject({ session: { stage: 'signed-in', userId }, method: 'totp' });
    expect(client.cookie()).not.toBe(halfway);
    const status = await client.call('GET', '/ui/api/account/two-factor');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ userId, status: 'enabled', recoveryCodesRemaining: 10 });
  });

  it('is not offered to a session that owes none', async () => {
    const client = uiClient(t.url);
    await client.signIn(freshUser());
    const answer = await client.call('POST', '/ui/api/session/verify', { body: { code: '123456' } });
    expect(answer.status).toBe(401);
  });

  it('records the attempts in the audit history as the user’s own, from the browser’s address', async () => {
    const userId = freshUser();
    await enableTwoFactor(t, userId);
    const client = uiClient(t.url);
    await client.signIn(userId);
    await client.call('POST', '/ui/api/session/verify', {
      body: { code: '000000' },
      headers: { 'user-agent': 'Browser/1.0\x85 (test)' },
    });
    await expect
      .poll(() => auditRecord(t, userId, 'VerificationFailed'))
      .toMatchObject({
        actor: { role: 'web', id: userId },
        endUserIp: '127.0.0.1',
        endUserAgent: 'Browser/1.0 (test)',
      });
  });
});

const adminSecrets = new Map<string, string>();

/** A code of the next time step, as the authenticator shows it then (each step works once). */
function nextCode(secret: string): string {
  t.clock.advance(STEP);
  return codeAt(secret, t.clock.now());
}

/** An administrator signed in past the second step: 2FA turned on (once, through the API), then a code. */
async function adminSession(userId: string) {
  let secret = adminSecrets.get(userId);
  if (secret === undefined) {
    secret = (await enableTwoFactor(t, userId)).secret;
    adminSecrets.set(userId, secret);
  }
  const client = uiClient(t.url);
  expect((await client.signIn(userId)).json).toMatchObject({ stage: 'second-step', admin: false });
  expect((await client.call('GET', '/ui/api/admin/policy')).status).toBe(401);
  const verified = await client.call('POST', '/ui/api/session/verify', { body: { code: nextCode(secret) } });
  expect(verified.json.session, verified.text).toMatchObject({
    stage: 'signed-in',
    admin: true,
    mustEnroll: false,
  });
  return client;
}

describe('the admin page’s calls', () => {
  it('are for the user ids in UI_ADMINS only, with 2FA on and its second step passed in this session', async () => {
    const user = uiClient(t.url);
    await user.signIn(freshUser());
    const refused = await user.call('GET', '/ui/api/admin/policy');
    expect(refused.status).toBe(403);
    expect(refused.json.title).toBe('Only administrators may do this');
    expect(
      (await user.call('PUT', '/ui/api/admin/policy', { body: { requireTwoFactor: true } })).status,
    ).toBe(403);
    const admin = await adminSession('chief');
    expect((await admin.call('GET', '/ui/api/admin/policy')).json).toMatchObject({ requireTwoFactor: false });
    const empty = await admin.call('POST', `/ui/api/admin/users/${freshUser()}/reset`, {
      body: { reason: ' ' },
    });
    expect(empty.status).toBe(400);
    expect(empty.json.detail).toContain('reason');
  });

  it('lead an administrator without 2FA into setup first, and open once it is on', async () => {
    const admin = uiClient(t.url);
    const signedIn = await admin.signIn('root');
    expect(signedIn.json).toMatchObject({
      stage: 'signed-in',
      userId: 'root',
      admin: false,
      mustEnroll: true,
    });
    const restricted = admin.cookie();
    for (const [method, path, body] of [
      ['GET', '/ui/api/admin/policy', undefined],
      ['GET', '/ui/api/admin/users', undefined],
      ['PUT', '/ui/api/admin/policy', { requireTwoFactor: false }],
      ['POST', `/ui/api/admin/users/${freshUser()}/reset`, { reason: 'takeover' }],
      ['POST', '/ui/api/account/two-factor/disable', { code: '123456' }],
    ] as const) {
      const answer = await admin.call(method, path, body === undefined ? {} : { body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.json.title).toBe('Set up two-factor authentication first');
    }
    // What leads there is open: the account's status and the setup.
    expect((await admin.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({
      status: 'disabled',
    });
    const started = await admin.call('POST', '/ui/api/account/two-factor/enrollment', { body: {} });
    expect(started.status, started.text).toBe(200);
    const confirmed = await admin.call('POST', '/ui/api/account/two-factor/enrollment/confirm', {
      body: { code: codeAt(started.json.secret, t.clock.now()) },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.json.recoveryCodes).toHaveLength(10);
    expect(confirmed.json.session).toMatchObject({ stage: 'signed-in', admin: true, mustEnroll: false });
    expect(admin.cookie()).not.toBe(restricted);
    expect((await admin.call('GET', '/ui/api/admin/policy')).status).toBe(200);
    // The restricted session is over: its id opens nothing.
    expect(
      (await admin.call('GET', '/ui/api/account/two-factor', { cookie: `tf_session=${restricted}` })).status,
    ).toBe(401);
  });

  it('close to an administrator whose 2FA goes: reset elsewhere, or turned off here', async () => {
    const reset = await adminSession('boss');
    const resetAnswer = await t.call('POST', '/v1/admin/users/boss/two-factor/reset', {
      ...asAdmin(),
      body: { reason: 'lost phone, ticket 9' },
    });
    expect(resetAnswer.status).toBe(200);
    adminSecrets.delete('boss');
    const refused = await reset.call('GET', '/ui/api/admin/policy');
    expect(refused.status).toBe(403);
    expect(refused.json.title).toBe('Set up two-factor authentication first');

    const deputy = await adminSession('deputy');
    const disabled = await deputy.call('POST', '/ui/api/account/two-factor/disable', {
      body: { code: nextCode(adminSecrets.get('deputy') ?? '') },
    });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.json.session).toMatchObject({ admin: false, mustEnroll: true });
    expect((await deputy.call('GET', '/ui/api/admin/users')).status).toBe(403);
  });

  it('refuse a reset reason the API refuses: one that could disguise the audit record, or too long', async () => {
    const admin = await adminSession('chief');
    for (const reason of ['lost phone\u202e4711 tekcit', 'x'.repeat(501)]) {
      const refused = await admin.call('POST', `/ui/api/admin/users/${freshUser()}/reset`, {
        body: { reason },
      });
      expect(refused.status).toBe(400);
      expect(refused.json.detail).toContain('reason');
    }
  });
});

describe('the page', () => {
  it('is served at / and /admin with a strict content security policy; its script and styles from here', async () => {
    for (const path of ['/', '/admin']) {
      const page = await fetch(`${t.url}${path}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.clone().text()).not.toContain('demo-banner');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const html = await page.text();
      expect(html).toContain('<script type="module" src="/ui/app.js"></script>');
      expect(html).not.toMatch(/https?:\/\//);
    }
    const script = await fetch(`${t.url}/ui/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const js = await script.text();
    expect(js).toContain('/ui/api/session');
    expect(js).not.toMatch(/\bimport\s*\(|from\s*["']https?:/);
    const css = await fetch(`${t.url}/ui/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('.switch[aria-checked=true]');
  });

  it('is left out of the API document', async () => {
    const doc = await t.call('GET', '/docs/json', { key: null });
    expect(Object.keys(doc.json.paths).filter((p) => !p.startsWith('/v1/'))).not.toContain('/ui/api/session');
  });
});

describe('UI_ENABLED=false', () => {
  it('serves no page and no session layer', async () => {
    const off = await startTestService({ env: { UI_ENABLED: 'false' } });
    try {
      expect((await off.call('GET', '/', { key: null })).status).toBe(404);
      expect((await off.call('GET', '/ui/api/session', { key: null })).status).toBe(404);
      expect((await off.call('GET', '/health/live', { key: null })).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});

describe('the per-address throttle', () => {
  it('refuses a browser address after too many failures across users, whatever headers it sends', async () => {
    const throttled = await startTestService({ env: { THROTTLE_FAILURES_PER_MINUTE: '3' } });
    try {
      const users = ['spray-1', 'spray-2', 'spray-3', 'spray-4'];
      const secrets = new Map<string, string>();
      for (const userId of users) secrets.set(userId, (await enableTwoFactor(throttled, userId)).secret);
      const clients = users.map(() => uiClient(throttled.url));
      for (const [i, userId] of users.entries()) {
        expect((await clients[i]!.signIn(userId)).json.stage).toBe('second-step');
      }
      for (const client of clients.slice(0, 3)) {
        const wrong = await client.call('POST', '/ui/api/session/verify', { body: { code: '000000' } });
        expect(wrong.json.code).toBe('invalid-code');
      }
      // Even the right code of a fourth user, and an address of its own choosing, do not help.
      const refused = await clients[3]!.call('POST', '/ui/api/session/verify', {
        body: { code: codeAt(secrets.get('spray-4')!, throttled.clock.now()) },
        headers: { 'x-end-user-ip': '198.51.100.7' },
      });
      expect(refused.status).toBe(429);
      expect(refused.json.code).toBe('rate-limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect((await clients[3]!.call('GET', '/ui/api/session')).json.stage).toBe('second-step');
      // The window passes.
      throttled.clock.advance(60_000);
      const accepted = await clients[3]!.call('POST', '/ui/api/session/verify', {
        body: { code: codeAt(secrets.get('spray-4')!, throttled.clock.now()) },
      });
      expect(accepted.status, accepted.text).toBe(200);
    } finally {
      await throttled.stop();
    }
  });
});

describe('the logs', () => {
  it('never hold a session id, a CSRF token, a secret or a code from the UI, even at trace', async () => {
    const traced = await startTestService({ logLevel: 'trace' });
    try {
      const client = uiClient(traced.url);
      await client.signIn('leak-check');
      const seen = new Map<string, string>([
        ['signed-in session id', client.cookie() ?? ''],
        ['sign-in form token', client.cookie('tf_signin') ?? ''],
        ['csrf token', client.csrfToken],
      ]);
      const started = await client.call('POST', '/ui/api/account/two-factor/enrollment', { body: {} });
      const secret: string = started.json.secret;
      const code = codeAt(secret, traced.clock.now());
      const confirmed = await client.call('POST', '/ui/api/account/two-factor/enrollment/confirm', {
        body: { code },
      });
      const recoveryCodes: string[] = confirmed.json.recoveryCodes;
      expect(recoveryCodes).toHaveLength(10);
      await client.call('POST', '/ui/api/session/sign-out', { body: {} });
      await client.call('POST', '/ui/api/session', { body: { userId: 'leak-check' } });
      await client.call('POST', '/ui/api/session/verify', { body: { recoveryCode: recoveryCodes[0] } });
      seen.set('session id after the second step', client.cookie() ?? '');
      seen.set('last csrf token', client.csrfToken);
      seen.set('secret', secret);
      seen.set('code', code);
      for (const [i, recoveryCode] of recoveryCodes.entries()) seen.set(`recovery code ${i}`, recoveryCode);

      const logs = traced.logs.join('');
      expect(logs).toContain('"cookie":"[redacted]"');
      expect(logs).toContain('"x-csrf-token":"[redacted]"');
      for (const [what, value] of seen) {
        expect(value.length, what).toBeGreaterThan(5);
        expect(logs.includes(value), `${what} in the logs`).toBe(false);
      }
    } finally {
      await traced.stop();
    }
  });
});
