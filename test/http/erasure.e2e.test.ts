import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import { verifyChain } from '../../src/audit/verifyChain.ts';
import { openSecret } from '../../src/crypto/secretBox.ts';
import type { EncryptedSecret } from '../../src/domain/twoFactor/encryptedSecret.ts';
import { sealedPersonalFieldsOf } from '../../src/keys/personalFields.ts';
import { DataKeyErasedError } from '../../src/keys/userKeys.ts';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';

const base = (user: string) => `/v1/users/${user}/two-factor`;
const IP = '203.0.113.177';
const AGENT = 'ErasureCheckBrowser/7.3 (unique agent 4f1c)';
const ACCOUNT = 'erin.erasure-check@example.com';
/** The id the web API names the person by (X-Actor-Id of role web): personal data too. */
const ACTOR = 'erin.actor-check-7d2e@example.com';
/** What an administrator wrote about erin when resetting her 2FA. */
const RESET_REASON = 'erin called from a new number, ticket 8c31';
const fromErin = { 'x-end-user-ip': IP, 'x-end-user-agent': AGENT, 'x-actor-id': ACTOR };
const asAdmin = { key: KEYS.admin, headers: { 'x-actor-id': 'root' } };

/** Every file under `dir`, read whole: what someone holding a copy of DATA_DIR holds. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, bytes: readFileSync(path) }];
  });
}

/** The files (and log lines) that hold `needle`, as UTF-8 text or as raw bytes. */
function holding(t: TestService, needle: string | Buffer): string[] {
  const found = filesUnder(t.dataDir)
    .filter(({ bytes }) => bytes.includes(needle))
    .map(({ path }) => path);
  if (t.logs.join('').includes(needle.toString())) found.push('the log');
  return found;
}

/** The user's audit records once `ready` holds of them: the audit read model lags the log a little. */
/** An audit line as the service writes it (GET /v1/audit/events). */
type AuditLine = {
  readonly type: string;
  readonly actor: { readonly role: string; readonly id: string | null };
  readonly endUserIp: string | null;
  readonly endUserAgent: string | null;
  readonly personalDataErased: boolean;
  readonly details: Record<string, unknown>;
};

async function audit(t: TestService, user: string, ready: (records: AuditLine[]) => boolean) {
  return eventually(async () => {
    const response = await t.call('GET', `/v1/audit/events?userId=${user}`, { key: KEYS.audit });
    expect(response.status).toBe(200);
    const records = response.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditLine);
    return ready(records) ? records : undefined;
  }, `the audit records of ${user}`);
}

async function enable(t: TestService, user: string, headers: Record<string, string> = {}) {
  const started = await t.call('POST', `${base(user)}/enrollment`, {
    body: { accountName: ACCOUNT },
    headers,
  });
  expect(started.status).toBe(201);
  const secret = started.json.secret as string;
  const confirmed = await t.call('POST', `${base(user)}/enrollment/confirm`, {
    body: { code: codeAt(secret, t.clock.now()) },
    headers,
  });
  expect(confirmed.status).toBe(200);
  return secret;
}

describe('erasure by crypto-shredding', () => {
  let t: TestService;
  let secret: string;
  let wrapped: string;

  beforeAll(async () => {
    t = await startTestService();
    await enable(t, 'erin', fromErin);
    const reset = await t.call('POST', '/v1/admin/users/erin/two-factor/reset', {
      ...asAdmin,
      body: { reason: RESET_REASON },
    });
    expect(reset.status).toBe(200);
    secret = await enable(t, 'erin', fromErin);
    t.clock.advance(30_000);
    const signIn = await t.call('POST', `${base('erin')}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
      headers: fromErin,
    });
    expect(signIn.status).toBe(200);
    await t.server.readModels.caughtUp();
    const kept = await t.server.runtime.keys.store.get('erin');
    expect(kept).not.toBeNull();
    wrapped = kept!.wrapped;
  });
  afterAll(() => t.stop());

  it('before: the audit and the notifications show where the user acted from; no file holds it in plain text', async () => {
    const fromHere = (r: AuditLine) => r.endUserIp === IP && r.endUserAgent === AGENT && r.actor.id === ACTOR;
    const records = await audit(t, 'erin', (all) => all.filter(fromHere).length >= 3);
    expect(records.filter(fromHere).length).toBeGreaterThanOrEqual(3);
    expect(records.find((r) => r.type === 'AdminReset')).toMatchObject({
      actor: { role: 'admin', id: 'root' },
      details: { reason: RESET_REASON },
    });
    const feed = await t.call('GET', '/v1/notifications');
    const enabled = feed.json.notifications.find((n: { userId: string }) => n.userId === 'erin');
    expect(enabled.details).toMatchObject({ endUserIp: IP, endUserAgent: AGENT });
    for (const value of [IP, AGENT, ACCOUNT, ACTOR, RESET_REASON, secret]) {
      expect(holding(t, value), value).toEqual([]);
    }
    // The scan can find what is there: the wrapped data key sits in the key store.
    expect(holding(t, wrapped).map((path) => path.split('/').pop())).toEqual(['keys.sqlite']);
    expect(holding(t, Buffer.from(wrapped, 'base64')).length + holding(t, wrapped).length).toBeGreaterThan(0);
  });

  it('after: 2FA reads disabled, the history replays and verifies, every personal field reads as erased', async () => {
    const erased = await t.call('POST', '/v1/admin/users/erin/erase', {
      ...asAdmin,
      body: { reason: 'erasure request, ticket 5120' },
    });
    expect(erased.status).toBe(200);
    // What stays is said: the user id itself, which names the stream.
    expect(erased.json).toEqual({ status: 'disabled', erased: true, retained: ['userId'] });
    expect((await t.call('GET', base('erin'))).json.status).toBe('disabled');
    await t.server.readModels.caughtUp();

    const records = await audit(t, 'erin', (all) => all.at(-1)?.type === 'UserErased');
    expect(records.at(-1)).toMatchObject({
      type: 'UserErased',
      actor: { role: 'admin', id: 'root' },
      endUserIp: null,
      details: { reason: 'erasure request, ticket 5120', previousStatus: 'enabled' },
    });
    const before = records.slice(0, -1);
    expect(before.length).toBeGreaterThanOrEqual(3);
    for (const record of before) {
      expect(record.personalDataErased, record.type).toBe(true);
      expect(record.endUserIp).toBeNull();
      expect(record.endUserAgent).toBeNull();
      if (record.actor.role === 'web') expect(record.actor.id, record.type).toBeNull();
    }
    expect(records.find((r) => r.type === 'AdminReset')?.details.reason).toBeNull();
    const feed = await t.call('GET', '/v1/notifications');
    for (const n of feed.json.notifications.filter((n: { userId: string }) => n.userId === 'erin')) {
      expect(n.details.endUserIp).toBeNull();
      expect(n.details.endUserAgent).toBeNull();
    }
    const verdict = await verifyChain(t.server.runtime.store);
    expect(verdict.ok).toBe(true);
  });

  it('after: nothing under DATA_DIR or in the log holds the secret, account name, address, agent, actor id, reason or data key', async () => {
    for (const value of [IP, AGENT, ACCOUNT, ACTOR, RESET_REASON, secret, wrapped]) {
      expect(holding(t, value), value).toEqual([]);
    }
    expect(holding(t, Buffer.from(wrapped, 'base64'))).toEqual([]);
  });

  it('after: no configured key opens what the user had sealed', async () => {
    const keyring = t.server.runtime.keys.forUser('erin');
    const secrets: EncryptedSecret[] = [];
    const personal: EncryptedSecret[] = [];
    for await (const event of t.server.runtime.store.readStream('two-factor-erin')) {
      const data = event.data as { secret?: EncryptedSecret };
      if (data.secret) secrets.push(data.secret);
      const sealed = sealedPersonalFieldsOf(readMetadata(event.metadata));
      if (sealed) personal.push(sealed);
    }
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    expect(personal.length).toBeGreaterThanOrEqual(3);
    for (const sealed of secrets)
      await expect(keyring.open(sealed)).rejects.toBeInstanceOf(DataKeyErasedError);
    // Not through the service either: no instance key opens them directly.
    const instanceKeys = t.server.runtime.encryptionKeys ?? [];
    expect(instanceKeys.length).toBeGreaterThan(0);
    for (const sealed of secrets) {
      for (const { key } of instanceKeys) expect(() => openSecret(key, sealed, 'erin')).toThrow();
    }
    for (const sealed of personal) expect(await keyring.openPersonal(sealed)).toBeNull();
  });

  it('after: the same user id enrolls again with a fresh data key, and signs in', async () => {
    const fresh = await enable(t, 'erin');
    const kept = await t.server.runtime.keys.store.get('erin');
    expect(kept?.wrapped).not.toBe(wrapped);
    t.clock.advance(30_000);
    const signIn = await t.call('POST', `${base('erin')}/verify`, {
      body: { code: codeAt(fresh, t.clock.now()) },
    });
    expect(signIn.status).toBe(200);
  });

  it('an erasure cut off between destroying the key and recording it says so, and running it again finishes it', async () => {
    const user = 'cut-off';
    const cut = await enable(t, user);
    // What a crash right after the key's destruction leaves: no key, no UserErased.
    expect(await t.server.runtime.keys.erase(user)).toBe(true);
    t.clock.advance(30_000);
    const before = t.logs.length;
    const signIn = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(cut, t.clock.now()) },
    });
    expect(signIn.status).toBe(503);
    const logged = t.logs.slice(before).join('');
    expect(logged).toContain('run the erasure again to finish it');
    expect(logged).not.toContain('add it to SECRET_ENCRYPTION_KEYS');
    // Readiness names no missing key: none is missing.
    expect((await t.call('GET', '/health/ready', { key: null })).json.detail).not.toContain('not configured');
    const erase = await t.call('POST', `/v1/admin/users/${user}/erase`, {
      ...asAdmin,
      body: { reason: 'finish' },
    });
    expect(erase.status).toBe(200);
    const after = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(cut, t.clock.now() + 30_000) },
    });
    expect(after.json.code).toBe('not-enabled');
  });

  it('a sign-in racing an erasure lands wholly before it or fails after it', async () => {
    for (let round = 0; round < 5; round++) {
      const user = `cara-${round}`;
      const cara = await enable(t, user);
      t.clock.advance(30_000);
      const [signIn, erase] = await Promise.all([
        t.call('POST', `${base(user)}/verify`, { body: { code: codeAt(cara, t.clock.now()) } }),
        t.call('POST', `/v1/admin/users/${user}/erase`, { ...asAdmin, body: { reason: 'race' } }),
      ]);
      expect(erase.status).toBe(200);
      const types: string[] = [];
      for await (const event of t.server.runtime.store.readStream(`two-factor-${user}`))
        types.push(event.type);
      expect(types.at(-1)).toBe('UserErased');
      if (signIn.status === 200) expect(types.slice(-2)).toEqual(['SignInVerified', 'UserErased']);
      else {
        expect(signIn.json.code).toBe('not-enabled');
        expect(types).not.toContain('SignInVerified');
      }
    }
  });
});
