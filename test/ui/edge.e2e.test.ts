import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { enableTwoFactor, STEP } from '../support/twoFactorFlows.ts';
import { auditRecord } from './serviceFixtures.ts';
import { send, uiClient } from './uiClient.ts';

/*
 * The web UI as deployed: in production, behind an authenticating, TLS-terminating proxy at
 * 127.0.0.1 (TRUST_PROXY), which passes on the signed-in user (X-Forwarded-User) and the
 * browser's address (X-Forwarded-For). A client at 127.0.0.2 is someone who reaches the
 * service without going through that proxy.
 */
const PROXY_ENV = {
  NODE_ENV: 'production',
  UI_ENABLED: 'true',
  UI_TRUSTED_USER_HEADER: 'X-Forwarded-User',
  TRUST_PROXY: '127.0.0.1',
  UI_ADMINS: 'root',
};
const PUBLIC_HOST = '2fa.example.test';
const DIRECT = '127.0.0.2';

/** A browser signed in at the proxy as `user`, at address `ip`, reaching the UI through it. */
const throughProxy = (t: TestService, user: string, ip = '198.51.100.10') =>
  uiClient(t.url, {
    origin: `http://${PUBLIC_HOST}`,
    headers: { host: PUBLIC_HOST, 'x-forwarded-user': user, 'x-forwarded-for': ip },
  });

describe('the web UI behind an authenticating proxy (production)', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      env: { ...PROXY_ENV, PUBLIC_URL: `http://${PUBLIC_HOST}`, THROTTLE_FAILURES_PER_MINUTE: '3' },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('signs in the user the proxy vouches for, and nobody a client names itself', async () => {
    const ada = throughProxy(t, 'ada');
    const view = await ada.call('GET', '/ui/api/session');
    expect(view.json).toMatchObject({ stage: 'anonymous', firstStep: 'trusted-header' });
    const signedIn = await ada.call('POST', '/ui/api/session', { body: {} });
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.json).toMatchObject({ stage: 'signed-in', userId: 'ada' });
    expect((await ada.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({ userId: 'ada' });

    // No user-id form: the administrator's id typed in is refused, even through the proxy.
    const typed = await throughProxy(t, 'ada').signIn('root');
    expect(typed.status).toBe(400);
    expect(typed.json.detail).toContain('sign-in proxy');

    // From an address the proxy list does not name, the header is only what the client wrote.
    const direct = uiClient(t.url, {
      origin: `http://${PUBLIC_HOST}`,
      localAddress: DIRECT,
      headers: { host: PUBLIC_HOST, 'x-forwarded-user': 'root' },
    });
    const refused = await direct.signIn();
    expect(refused.status, refused.text).toBe(401);
    expect(refused.json).toMatchObject({ code: 'unauthenticated', title: 'Sign in first' });
    expect(direct.cookie()).toBeUndefined();
  });

  it('ends a session once the proxy no longer vouches for its user', async () => {
    const ada = throughProxy(t, 'ada');
    await ada.signIn();
    const cookie = ada.cookieHeader;
    expect((await ada.call('GET', '/ui/api/account/two-factor')).status).toBe(200);
    // The same cookie, with another user signed in at the proxy on that browser.
    const other = await ada.call('GET', '/ui/api/account/two-factor', {
      headers: { 'x-forwarded-user': 'bob' },
    });
    expect(other.status).toBe(401);
    expect((await ada.call('GET', '/ui/api/account/two-factor', { cookie })).status).toBe(401);
  });

  it('answers on PUBLIC_URL only: another Host gets 421 from the UI, while the API serves any Host', async () => {
    for (const path of ['/', '/admin', '/ui/app.js', '/ui/api/session']) {
      // A DNS-rebinding page reaches the service under its own name, and sends its own origin.
      const rebound = await send(`${t.url}${path}`, {
        method: 'GET',
        headers: { host: 'evil.example', origin: 'http://evil.example', 'x-forwarded-user': 'root' },
      });
      expect(rebound.status, path).toBe(421);
      expect(JSON.parse(rebound.text)).toMatchObject({ code: 'misdirected-request' });
      expect(rebound.headers['set-cookie']).toBeUndefined();
    }
    const signIn = await send(`${t.url}/ui/api/session`, {
      method: 'POST',
      headers: { host: 'evil.example', 'content-type': 'application/json', 'x-forwarded-user': 'root' },
      body: '{}',
    });
    expect(signIn.status).toBe(421);
    // Server to server, under an internal service name: the API does not care.
    const status = await send(`${t.url}/v1/users/ada/two-factor`, {
      method: 'GET',
      headers: { host: 'two-factor.internal:3000', authorization: `Bearer ${KEYS.web}` },
    });
    expect(status.status, status.text).toBe(200);
    expect((await send(`${t.url}/health/ready`, { method: 'GET', headers: { host: 'pod-ip' } })).status).toBe(
      200,
    );
  });

  it('throttles two browsers behind the one proxy apart, by their forwarded addresses', async () => {
    const [mallory, carol] = ['spray-victim-1', 'spray-victim-2'];
    await enableTwoFactor(t, mallory);
    const { secret } = await enableTwoFactor(t, carol);
    const attacker = throughProxy(t, mallory, '203.0.113.66');
    const user = throughProxy(t, carol, '198.51.100.20');
    expect((await attacker.signIn()).json.stage).toBe('second-step');
    expect((await user.signIn()).json.stage).toBe('second-step');
    for (let i = 0; i < 3; i++) {
      const wrong = await attacker.call('POST', '/ui/api/session/verify', { body: { code: '000000' } });
      expect(wrong.json.code).toBe('invalid-code');
    }
    const limited = await attacker.call('POST', '/ui/api/session/verify', { body: { code: '000000' } });
    expect(limited.status).toBe(429);
    expect(limited.json.code).toBe('rate-limited');
    // The other browser, through the very same proxy connection address, is not affected.
    t.clock.advance(STEP);
    const accepted = await user.call('POST', '/ui/api/session/verify', {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(accepted.status, accepted.text).toBe(200);
    await expect
      .poll(() => auditRecord(t, mallory, 'VerificationFailed'))
      .toMatchObject({ endUserIp: '203.0.113.66' });
  });

  it('shows no demo banner: the first step is real', async () => {
    const page = await send(`${t.url}/`, { method: 'GET', headers: { host: PUBLIC_HOST } });
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('demo-banner');
  });
});

describe('the web UI behind a TLS-terminating proxy, PUBLIC_URL https', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ env: { ...PROXY_ENV, PUBLIC_URL: `https://${PUBLIC_HOST}` } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const viaTls = (extra: Record<string, string> = {}) =>
    uiClient(t.url, {
      origin: `https://${PUBLIC_HOST}`,
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': PUBLIC_HOST,
        'x-forwarded-user': 'ada',
        ...extra,
      },
    });

  it('sets __Host- cookies: Secure, HttpOnly, SameSite=Strict, Path=/', async () => {
    const browser = viaTls();
    const view = await browser.call('GET', '/ui/api/session');
    expect(view.setCookies).toEqual([
      expect.stringMatching(/^__Host-tf_signin=[A-Za-z0-9_.-]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/),
    ]);
    const signedIn = await browser.call('POST', '/ui/api/session', { body: {} });
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.setCookies).toEqual([
      expect.stringMatching(
        /^__Host-tf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
      ),
    ]);
    expect(browser.cookie('__Host-tf_session')).toBeDefined();
    expect((await browser.call('GET', '/ui/api/account/two-factor')).status).toBe(200);
  });

  it('refuses the UI over plain http, and a change whose Origin is not exactly PUBLIC_URL', async () => {
    const plain = await send(`${t.url}/`, {
      method: 'GET',
      headers: { host: PUBLIC_HOST, 'x-forwarded-user': 'ada' },
    });
    expect(plain.status).toBe(421);
    const browser = viaTls();
    await browser.call('GET', '/ui/api/session');
    const downgraded = await browser.call('POST', '/ui/api/session', {
      body: {},
      headers: { origin: `http://${PUBLIC_HOST}` },
    });
    expect(downgraded.status).toBe(403);
  });
});

describe('a flood of requests', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('flushes no session: a signed-in one and a second step begun elsewhere still work after it', async () => {
    const signedIn = uiClient(t.url);
    expect((await signedIn.signIn('steady-user')).json.stage).toBe('signed-in');
    const { secret } = await enableTwoFactor(t, 'steady-2fa-user');
    const waiting = uiClient(t.url, { localAddress: '127.0.0.4' });
    expect((await waiting.signIn('steady-2fa-user')).json.stage).toBe('second-step');

    // More anonymous visits than the old store held sessions (10,000), in bounded batches.
    const VISITS = 10_050;
    const BATCH = 50;
    let anonymous = 0;
    for (let sent = 0; sent < VISITS; sent += BATCH) {
      const answers = await Promise.all(
        Array.from({ length: BATCH }, () => send(`${t.url}/ui/api/session`, { method: 'GET', headers: {} })),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(String(answer.headers['set-cookie'])).not.toContain('tf_session');
        anonymous++;
      }
    }
    expect(anonymous).toBe(VISITS);
    // And second steps begun from one address, far more than its bound.
    const flooder = { localAddress: '127.0.0.3' };
    for (let i = 0; i < 60; i++) {
      const started = await uiClient(t.url, flooder).signIn('steady-2fa-user');
      expect(started.json.stage).toBe('second-step');
    }

    expect((await signedIn.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({
      userId: 'steady-user',
    });
    t.clock.advance(STEP);
    const verified = await waiting.call('POST', '/ui/api/session/verify', {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(verified.status, verified.text).toBe(200);
  });
});
