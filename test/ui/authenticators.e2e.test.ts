import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, STEP } from '../support/twoFactorFlows.ts';
import { uiClient } from './uiClient.ts';

let t: TestService;
let n = 0;
const freshUser = () => `devices-user-${++n}`;
const PATH = '/ui/api/account/two-factor/authenticators';

beforeAll(async () => {
  t = await startTestService({ env: { UI_ADMINS: 'chief' } });
});
afterAll(async () => {
  await t?.stop();
});

const now = (secret: string) => codeAt(secret, t.clock.now());
const wrong = (secret: string) => (now(secret) === '000000' ? '111111' : '000000');

/** A user with 2FA on (through the API), signed in to the UI past the second step. */
async function signedInWithTwoFactor(userId = freshUser()) {
  const { secret, recoveryCodes } = await enableTwoFactor(t, userId);
  const client = uiClient(t.url);
  await client.signIn(userId);
  const verified = await client.call('POST', '/ui/api/session/verify', { body: { code: now(secret) } });
  expect(verified.status, verified.text).toBe(200);
  t.clock.advance(STEP);
  return { userId, secret, recoveryCodes, client };
}

/** A second app added and confirmed through the UI's routes; its id and secret. */
async function addSecond(client: ReturnType<typeof uiClient>, proofSecret: string, name: string) {
  const added = await client.call('POST', PATH, { body: { name, code: now(proofSecret) } });
  expect(added.status, added.text).toBe(200);
  // The new app's own last accepted step starts empty: a code of the same step confirms it.
  const confirmed = await client.call('POST', `${PATH}/${added.json.authenticatorId}/confirm`, {
    body: { code: now(added.json.secret) },
  });
  expect(confirmed.status, confirmed.text).toBe(200);
  t.clock.advance(STEP);
  return { id: added.json.authenticatorId as string, secret: added.json.secret as string };
}

describe('the authenticator apps of the signed-in user', () => {
  it('lists the first app under its default name, added when 2FA was turned on and used at the sign-in', async () => {
    const { client } = await signedInWithTwoFactor();
    const listed = await client.call('GET', PATH);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.headers['cache-control']).toBe('no-store');
    expect(listed.json).toEqual({
      authenticators: [
        {
          id: expect.stringMatching(/^auth_[A-Za-z0-9]{1,32}$/),
          name: 'Authenticator app',
          addedAt: expect.any(String),
          lastUsedAt: expect.any(String),
        },
      ],
    });
    expect((await client.call('GET', '/ui/api/account/two-factor')).json.authenticators).toBe(1);
  });

  it('adds one proved with a current code, pending until a code of the new app confirms it', async () => {
    const { client, secret } = await signedInWithTwoFactor();
    const added = await client.call('POST', PATH, { body: { name: '  Backup phone ', code: now(secret) } });
    expect(added.status, added.text).toBe(200);
    expect(added.json).toEqual({
      authenticatorId: expect.stringMatching(/^auth_/),
      name: 'Backup phone',
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      otpauthUri: expect.stringMatching(/^otpauth:\/\/totp\//),
      qrCode: expect.stringMatching(/^data:image\/png;base64,/),
      expiresAt: expect.any(String),
    });
    // Not listed while pending.
    expect((await client.call('GET', PATH)).json.authenticators).toHaveLength(1);
    const id = added.json.authenticatorId as string;
    const refused = await client.call('POST', `${PATH}/${id}/confirm`, {
      body: { code: wrong(added.json.secret) },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.code).toBe('invalid-code');
    const confirmed = await client.call('POST', `${PATH}/${id}/confirm`, {
      body: { code: now(added.json.secret) },
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.json).toEqual({
      id,
      name: 'Backup phone',
      addedAt: expect.any(String),
      lastUsedAt: null,
    });
    const names = (await client.call('GET', PATH)).json.authenticators.map((a: { name: string }) => a.name);
    expect(names).toEqual(['Authenticator app', 'Backup phone']);
    expect((await client.call('GET', '/ui/api/account/two-factor')).json.authenticators).toBe(2);
  });

  it('takes a recovery code as the proof for adding one, and says what a wrong code cost', async () => {
    const { client, secret, recoveryCodes } = await signedInWithTwoFactor();
    const wrongCode = await client.call('POST', PATH, { body: { name: 'Tablet', code: wrong(secret) } });
    expect(wrongCode.status).toBe(422);
    expect(wrongCode.json).toMatchObject({
      code: 'invalid-code',
      failedAttempt: { factor: 'app', attemptsLeft: expect.any(Number) },
    });
    const added = await client.call('POST', PATH, {
      body: { name: 'Tablet', recoveryCode: recoveryCodes[0] },
    });
    expect(added.status, added.text).toBe(200);
    expect((await client.call('GET', '/ui/api/account/two-factor')).json.recoveryCodesRemaining).toBe(9);
  });

  it('refuses a name outside the rule, or two proofs, or none, before asking the service', async () => {
    const { client, secret } = await signedInWithTwoFactor();
    const cases = [
      { name: '   ', code: now(secret) },
      { name: 'x'.repeat(65), code: now(secret) },
      { name: 'Phone\u202E', code: now(secret) },
      { name: 'Phone' },
      { name: 'Phone', code: now(secret), recoveryCode: 'abcde-fghij' },
      { code: now(secret) },
    ];
    for (const body of cases) {
      const refused = await client.call('POST', PATH, { body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.code).toBe('invalid-request');
    }
    expect(
      (await client.call('POST', PATH, { body: { name: 'x'.repeat(65), code: now(secret) } })).json.detail,
    ).toMatch(/^body\.name: /);
  });

  it('renames one (a label: no code asked), refusing a name another app has', async () => {
    const { client, secret } = await signedInWithTwoFactor();
    const second = await addSecond(client, secret, 'Backup phone');
    const [first] = (await client.call('GET', PATH)).json.authenticators;
    const taken = await client.call('PATCH', `${PATH}/${first.id}`, { body: { name: 'backup PHONE' } });
    expect(taken.status).toBe(409);
    expect(taken.json.code).toBe('authenticator-name-taken');
    const renamed = await client.call('PATCH', `${PATH}/${second.id}`, { body: { name: 'Old phone' } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.json).toMatchObject({ id: second.id, name: 'Old phone' });
    const unknown = await client.call('PATCH', `${PATH}/auth_nothere`, { body: { name: 'X' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('authenticator-not-found');
    const badId = await client.call('PATCH', `${PATH}/not-an-id`, { body: { name: 'X' } });
    expect(badId.status).toBe(400);
  });

  it('removes one with a code of another app; removing the last turns 2FA off', async () => {
    const { client, secret } = await signedInWithTwoFactor();
    const second = await addSecond(client, secret, 'Backup phone');
    const [first] = (await client.call('GET', PATH)).json.authenticators;
    const removed = await client.call('DELETE', `${PATH}/${first.id}`, {
      body: { code: now(second.secret) },
    });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.json).toMatchObject({
      status: 'enabled',
      authenticators: 1,
      session: { stage: 'signed-in' },
    });
    t.clock.advance(STEP);
    // The removed app's codes no longer prove anything.
    const stale = await client.call('DELETE', `${PATH}/${second.id}`, { body: { code: now(secret) } });
    expect(stale.status).toBe(422);
    const last = await client.call('DELETE', `${PATH}/${second.id}`, { body: { code: now(second.secret) } });
    expect(last.status, last.text).toBe(200);
    expect(last.json).toMatchObject({
      status: 'disabled',
      authenticators: 0,
      session: { mustEnroll: false },
    });
    expect((await client.call('GET', '/ui/api/account/two-factor')).json).toMatchObject({
      status: 'disabled',
      authenticators: 0,
    });
    expect((await client.call('GET', PATH)).json.authenticators).toEqual([]);
  });

  it('leads an administrator who removes the last app back into setup, in a new session', async () => {
    const { client, secret } = await signedInWithTwoFactor('chief');
    const [only] = (await client.call('GET', PATH)).json.authenticators;
    const before = client.cookie();
    const removed = await client.call('DELETE', `${PATH}/${only.id}`, { body: { code: now(secret) } });
    expect(removed.status, removed.text).toBe(200);
    expect(removed.json.session).toMatchObject({ mustEnroll: true, mustEnrollBecause: 'administrator' });
    expect(client.cookie()).not.toBe(before);
  });

  it('refuses to remove the only app while 2FA is required for all users', async () => {
    const { client, secret } = await signedInWithTwoFactor();
    const [only] = (await client.call('GET', PATH)).json.authenticators;
    const required = await t.call('PUT', '/v1/admin/policy', {
      ...asAdmin(),
      body: { requireTwoFactor: true, gracePeriodHours: 0 },
    });
    expect(required.status, required.text).toBe(200);
    try {
      const refused = await client.call('DELETE', `${PATH}/${only.id}`, { body: { code: now(secret) } });
      expect(refused.status).toBe(403);
      expect(refused.json.code).toBe('two-factor-required');
      expect((await client.call('GET', PATH)).json.authenticators).toHaveLength(1);
    } finally {
      await t.call('PUT', '/v1/admin/policy', { ...asAdmin(), body: { requireTwoFactor: false } });
    }
  });

  it('is for a signed-in session past its second step, and changes carry the page’s token', async () => {
    const userId = freshUser();
    const { secret } = await enableTwoFactor(t, userId);
    const halfway = uiClient(t.url);
    await halfway.signIn(userId);
    expect((await halfway.call('GET', PATH)).status).toBe(401);
    expect((await halfway.call('POST', PATH, { body: { name: 'X', code: now(secret) } })).status).toBe(401);
    expect((await uiClient(t.url).call('GET', PATH)).status).toBe(401);

    const { client, secret: own } = await signedInWithTwoFactor();
    const forged = await client.call('POST', PATH, { body: { name: 'X', code: now(own) }, csrf: false });
    expect(forged.status).toBe(403);
    const elsewhere = await client.call('PATCH', `${PATH}/auth_1`, {
      body: { name: 'X' },
      headers: { origin: 'https://evil.example' },
    });
    expect(elsewhere.status).toBe(403);
    expect((await client.call('GET', PATH)).json.authenticators[0].name).toBe('Authenticator app');
  });
});
