import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, STEP } from '../support/twoFactorFlows.ts';
import { auditRecord } from './serviceFixtures.ts';
import { uiClient } from './uiClient.ts';

const HOUR = 3_600_000;
let t: TestService;
let n = 0;
const freshUser = () => `required-user-${++n}`;

beforeAll(async () => {
  t = await startTestService({ env: { UI_ADMINS: 'chief' } });
});
afterAll(async () => {
  await t?.stop();
});

/** Require 2FA for everyone, with this grace, through the API (as another admin tool would). */
async function requireTwoFactor(gracePeriodHours: number) {
  const changed = await t.call('PUT', '/v1/admin/policy', {
    ...asAdmin(),
    body: { requireTwoFactor: true, gracePeriodHours },
  });
  expect(changed.status, changed.text).toBe(200);
}

async function notRequired() {
  const changed = await t.call('PUT', '/v1/admin/policy', {
    ...asAdmin(),
    body: { requireTwoFactor: false },
  });
  expect(changed.status, changed.text).toBe(200);
}

/** What a restricted session may not reach: everything but its status, its setup and sign-out. */
const BEYOND_SETUP = [
  ['POST', '/ui/api/session/remind-later', {}],
  ['POST', '/ui/api/account/two-factor/recovery-codes', { code: '123456' }],
  ['POST', '/ui/api/account/two-factor/disable', { code: '123456' }],
  ['GET', '/ui/api/admin/policy', undefined],
  ['GET', '/ui/api/admin/users/summary', undefined],
] as const;

async function expectRestricted(client: ReturnType<typeof uiClient>) {
  for (const [method, path, body] of BEYOND_SETUP) {
    const answer = await client.call(method, path, body === undefined ? {} : { body });
    expect(answer.status, `${method} ${path}`).toBe(403);
    expect(answer.json.title).toBe('Set up two-factor authentication first');
    expect(answer.json.detail).not.toContain('administrator');
  }
}

/** The setup through the UI's own routes, with a real code; answers the confirmation. */
async function setUp(client: ReturnType<typeof uiClient>) {
  const started = await client.call('POST', '/ui/api/account/two-factor/enrollment', { body: {} });
  expect(started.status, started.text).toBe(200);
  const confirmed = await client.call('POST', '/ui/api/account/two-factor/enrollment/confirm', {
    body: { code: codeAt(started.json.secret, t.clock.now()) },
  });
  expect(confirmed.status, confirmed.text).toBe(200);
  t.clock.advance(STEP);
  return { secret: started.json.secret as string, confirmed };
}

describe('"require 2FA" at the web UI’s sign-in', () => {
  it('with no grace: signs a user without 2FA in restricted to its setup, lifted once it is on', async () => {
    await requireTwoFactor(0);
    try {
      const user = freshUser();
      const client = uiClient(t.url, { headers: { 'user-agent': 'Browser/1.0 (test)' } });
      const signedIn = await client.signIn(user);
      expect(signedIn.json).toMatchObject({
        stage: 'signed-in',
        userId: user,
        admin: false,
        mustEnroll: true,
        mustEnrollBecause: 'policy',
        setupOffer: null,
      });
      await expectRestricted(client);
      // The deadline the sign-in recorded names the user and the browser's address.
      await expect
        .poll(() => auditRecord(t, user, 'EnrollmentDeadlineRecorded'))
        .toMatchObject({
          actor: { role: 'web', id: user },
          endUserIp: '127.0.0.1',
          endUserAgent: 'Browser/1.0 (test)',
          details: { seenThrough: 'status' },
        });
      // The page reloaded: still restricted.
      expect((await client.call('GET', '/ui/api/session')).json).toMatchObject({ mustEnroll: true });
      expect((await client.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({
        status: 'disabled',
        enrollmentRequired: true,
        canDefer: false,
        enrollInSeconds: null,
      });
      const { confirmed } = await setUp(client);
      expect(confirmed.json.session).toMatchObject({ mustEnroll: false, mustEnrollBecause: null });
      expect((await client.call('GET', '/ui/api/session')).json).toMatchObject({
        mustEnroll: false,
        setupOffer: null,
      });
      expect((await client.call('GET', '/ui/api/account/two-factor')).json.status).toBe('enabled');
    } finally {
      await notRequired();
    }
  });

  it('after an emergency reset: the user’s next sign-in is restricted to the setup', async () => {
    const user = freshUser();
    await enableTwoFactor(t, user);
    await requireTwoFactor(72);
    try {
      const reset = await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, {
        ...asAdmin(),
        body: { reason: 'lost phone, ticket 12' },
      });
      expect(reset.status, reset.text).toBe(200);
      const client = uiClient(t.url);
      expect((await client.signIn(user)).json).toMatchObject({
        mustEnroll: true,
        mustEnrollBecause: 'policy',
      });
      await expectRestricted(client);
    } finally {
      await notRequired();
    }
  });

  it('with a grace: offers the setup, remembers "Remind me later" for the session, and forces it past the deadline', async () => {
    await requireTwoFactor(72);
    try {
      const user = freshUser();
      const client = uiClient(t.url);
      const signedIn = await client.signIn(user);
      expect(signedIn.json).toMatchObject({ mustEnroll: false, setupOffer: { secondsLeft: 72 * 3600 } });
      const enrollBy = signedIn.json.setupOffer.enrollBy as string;
      expect(Date.parse(enrollBy)).toBe(t.clock.now() + 72 * HOUR);
      // Asked again when the page loads, until the user chooses.
      expect((await client.call('GET', '/ui/api/session')).json.setupOffer).toMatchObject({ enrollBy });
      const later = await client.call('POST', '/ui/api/session/remind-later', { body: {} });
      expect(later.status, later.text).toBe(200);
      expect(later.json).toMatchObject({ mustEnroll: false, setupOffer: null });
      t.clock.advance(HOUR);
      expect((await client.call('GET', '/ui/api/session')).json).toMatchObject({ setupOffer: null });
      expect((await client.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({
        enrollmentRequired: true,
        canDefer: true,
        enrollBy,
        enrollInSeconds: 71 * 3600,
      });

      // Signed in again: asked again.
      const again = uiClient(t.url);
      expect((await again.signIn(user)).json.setupOffer).toMatchObject({ enrollBy, secondsLeft: 71 * 3600 });

      // Past the deadline, the session that put it off is restricted when the page next loads.
      t.clock.advance(71 * HOUR);
      const before = client.cookie();
      const due = await client.call('GET', '/ui/api/session');
      expect(due.json).toMatchObject({ mustEnroll: true, mustEnrollBecause: 'policy', setupOffer: null });
      expect(client.cookie()).not.toBe(before);
      await expectRestricted(client);
      // …and so is "Remind me later" in the other one, which answers with its restricted view.
      const refused = await again.call('POST', '/ui/api/session/remind-later', { body: {} });
      expect(refused.json).toMatchObject({ mustEnroll: true, setupOffer: null });
      await expectRestricted(again);
    } finally {
      await notRequired();
    }
  });

  it('a shortened grace reaches a user who already put the setup off', async () => {
    await requireTwoFactor(72);
    try {
      const user = freshUser();
      const client = uiClient(t.url);
      expect((await client.signIn(user)).json.setupOffer).not.toBeNull();
      expect(
        (await client.call('POST', '/ui/api/session/remind-later', { body: {} })).json.setupOffer,
      ).toBeNull();
      t.clock.advance(2 * HOUR);
      await requireTwoFactor(1);
      expect((await client.call('GET', '/ui/api/session')).json).toMatchObject({ mustEnroll: true });
      expect((await uiClient(t.url).signIn(user)).json).toMatchObject({ mustEnroll: true });
    } finally {
      await notRequired();
    }
  });

  it('asks nothing of a user when 2FA is not required, nor of one who has it', async () => {
    const client = uiClient(t.url);
    expect((await client.signIn(freshUser())).json).toMatchObject({ mustEnroll: false, setupOffer: null });
    const remind = await client.call('POST', '/ui/api/session/remind-later', { body: {} });
    expect(remind.json).toMatchObject({ mustEnroll: false, setupOffer: null });
    const user = freshUser();
    const { secret } = await enableTwoFactor(t, user);
    await requireTwoFactor(0);
    try {
      const signed = uiClient(t.url);
      expect((await signed.signIn(user)).json).toMatchObject({ stage: 'second-step', mustEnroll: false });
      t.clock.advance(STEP);
      const verified = await signed.call('POST', '/ui/api/session/verify', {
        body: { code: codeAt(secret, t.clock.now()) },
      });
      expect(verified.json.session).toMatchObject({
        stage: 'signed-in',
        mustEnroll: false,
        setupOffer: null,
      });
    } finally {
      await notRequired();
    }
  });
});

describe('a wrong code at the web UI', () => {
  it('says how many tries are left before a lock, then that this one locked it and for how long', async () => {
    const user = freshUser();
    const { secret } = await enableTwoFactor(t, user);
    const client = uiClient(t.url);
    await client.signIn(user);
    const wrong = () => (codeAt(secret, t.clock.now()) === '000000' ? '111111' : '000000');
    const answers = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      answers.push(await client.call('POST', '/ui/api/session/verify', { body: { code: wrong() } }));
    }
    expect(answers.map((a) => a.status)).toEqual([422, 422, 422, 422, 422]);
    expect(answers.map((a) => a.json.code)).toEqual(Array(5).fill('invalid-code'));
    expect(answers.map((a) => a.json.failedAttempt.attemptsLeft)).toEqual([4, 3, 2, 1, 0]);
    expect(answers[4]!.json.failedAttempt).toEqual({
      factor: 'app',
      attemptsLeft: 0,
      lockIsPermanent: false,
      lockedForSeconds: 60,
    });
    const refused = await client.call('POST', '/ui/api/session/verify', { body: { code: wrong() } });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.json.failedAttempt).toBeUndefined();
    // The recovery codes keep their own count.
    const recovery = await client.call('POST', '/ui/api/session/verify', {
      body: { recoveryCode: 'zzzzz-zzzzz' },
    });
    expect(recovery.json.failedAttempt).toMatchObject({ factor: 'recovery-codes', attemptsLeft: 4 });
  });
});

describe('the admin page’s coverage', () => {
  it('sets the grace with the policy, counts who is enrolled, lists who is required, and offers no reset of what is off', async () => {
    const chiefSecret = (await enableTwoFactor(t, 'chief')).secret;
    const admin = uiClient(t.url);
    await admin.signIn('chief');
    t.clock.advance(STEP);
    const verified = await admin.call('POST', '/ui/api/session/verify', {
      body: { code: codeAt(chiefSecret, t.clock.now()) },
    });
    expect(verified.json.session).toMatchObject({ admin: true });
    for (const gracePeriodHours of [-1, 8761, 1.5, '72']) {
      const bad = await admin.call('PUT', '/ui/api/admin/policy', {
        body: { requireTwoFactor: true, gracePeriodHours },
      });
      expect(bad.status, String(gracePeriodHours)).toBe(400);
      expect(bad.json.detail).toContain('gracePeriodHours');
    }
    const on = await admin.call('PUT', '/ui/api/admin/policy', {
      body: { requireTwoFactor: true, gracePeriodHours: 72 },
    });
    expect(on.json).toMatchObject({ requireTwoFactor: true, gracePeriodHours: 72 });
    try {
      const late = freshUser();
      await uiClient(t.url).signIn(late);
      t.clock.advance(73 * HOUR);
      const early = freshUser();
      await uiClient(t.url).signIn(early);
      await expect
        .poll(async () => (await admin.call('GET', '/ui/api/admin/users?status=required')).json.users.length)
        .toBe(2);
      const listed = (await admin.call('GET', '/ui/api/admin/users?status=required')).json.users;
      expect(listed.map((u: { userId: string }) => u.userId).sort()).toEqual([early, late].sort());
      for (const row of listed) expect(row.enrollBy).toEqual(expect.any(String));
      const summary = (await admin.call('GET', '/ui/api/admin/users/summary')).json;
      expect(summary).toMatchObject({ requireTwoFactor: true, gracePeriodHours: 72, pastDeadline: 1 });
      expect(summary.seenUsers - summary.enrolledUsers).toBe(2);
      expect((await admin.call('GET', '/ui/api/admin/users?status=nobody')).status).toBe(400);

      const nothing = await admin.call('POST', `/ui/api/admin/users/${early}/reset`, {
        body: { reason: 'checking' },
      });
      expect(nothing.status).toBe(409);
      expect(nothing.json.title).toBe('Nothing to reset');
      expect(nothing.json.detail).toBe(
        `${early} has no two-factor authentication to reset: it is already off`,
      );
      // A look is not a sighting: no reset, no event.
      expect(await auditRecord(t, early, 'AdminReset')).toBeUndefined();
    } finally {
      await notRequired();
    }
  });
});
