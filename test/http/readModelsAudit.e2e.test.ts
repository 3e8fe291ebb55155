import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { admin, fromUser, newUser, readModelCalls } from './readModelsKit.ts';

/* GET /v1/audit/events: the audit read model as NDJSON, and its filters. */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});
const { audit, auditOf, enable } = readModelCalls(() => t);

describe('GET /v1/audit/events', () => {
  it('streams every attempt as NDJSON in log order, with who, from where and which request', async () => {
    const user = newUser('audited');
    const startId = `start-${randomUUID()}`;
    const started = await t.call('POST', `/v1/users/${user}/two-factor/enrollment`, {
      body: { accountName: `${user}@example.com` },
      headers: fromUser(startId),
    });
    const secret = started.json.secret as string;
    const failedConfirmId = `bad-confirm-${randomUUID()}`;
    expect(
      (
        await t.call('POST', `/v1/users/${user}/two-factor/enrollment/confirm`, {
          body: { code: codeAt(secret, t.clock.now() + 10 * 60_000) },
          headers: fromUser(failedConfirmId),
        })
      ).status,
    ).toBe(422);
    const confirmId = `confirm-${randomUUID()}`;
    const confirmed = await t.call('POST', `/v1/users/${user}/two-factor/enrollment/confirm`, {
      body: { code: codeAt(secret, t.clock.now()) },
      headers: fromUser(confirmId),
    });
    const recoveryCodes = confirmed.json.recoveryCodes as string[];
    t.clock.advance(30_000);
    const failedVerifyId = `bad-verify-${randomUUID()}`;
    expect(
      (
        await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
          body: { recoveryCode: 'zzzzz-zzzzz' },
          headers: fromUser(failedVerifyId),
        })
      ).status,
    ).toBe(422);
    const recoveryId = `recovery-${randomUUID()}`;
    expect(
      (
        await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
          body: { recoveryCode: recoveryCodes[0] },
          headers: fromUser(recoveryId),
        })
      ).status,
    ).toBe(200);
    const totpId = `totp-${randomUUID()}`;
    expect(
      (
        await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
          body: { code: codeAt(secret, t.clock.now()) },
          headers: fromUser(totpId),
        })
      ).status,
    ).toBe(200);
    const resetId = `reset-${randomUUID()}`;
    await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, {
      ...admin,
      headers: { ...admin.headers, 'x-request-id': resetId },
      body: { reason: 'e2e ticket 7' },
    });

    const { records, text } = await auditOf(user, 8);
    const { response } = await audit(`?userId=${user}`);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);

    expect(records.map((r) => [r.type, r.correlationId])).toEqual([
      ['EnrollmentStarted', startId],
      ['VerificationFailed', failedConfirmId],
      ['TwoFactorEnabled', confirmId],
      ['VerificationFailed', failedVerifyId],
      ['RecoveryCodeConsumed', recoveryId],
      ['SignInVerified', recoveryId],
      ['SignInVerified', totpId],
      ['AdminReset', resetId],
    ]);
    const positions = records.map((r) => BigInt(r.position));
    for (let i = 1; i < positions.length; i++) expect(positions[i]! > positions[i - 1]!).toBe(true);
    for (const record of records.slice(0, 7)) {
      expect(record).toMatchObject({
        userId: user,
        actor: { role: 'web', id: null },
        endUserIp: '203.0.113.42',
        endUserAgent: 'Mozilla/5.0 (e2e)',
      });
      expect(Object.keys(record).sort()).toEqual(
        [
          'position',
          'recordedAt',
          'userId',
          'type',
          'actor',
          'correlationId',
          'endUserIp',
          'endUserAgent',
          'personalDataErased',
          'details',
        ].sort(),
      );
      expect(Number.isNaN(Date.parse(record.recordedAt))).toBe(false);
    }
    expect(records[3]!.details).toMatchObject({
      purpose: 'sign-in',
      method: 'recovery-code',
      consecutiveFailures: 1,
    });
    expect(records[4]!.details).toMatchObject({ purpose: 'sign-in', remaining: 9 });
    expect(records[2]!.details).toMatchObject({ recoveryCodes: 10 });
    expect(records[7]).toMatchObject({
      actor: { role: 'admin', id: 'root@example.com' },
      details: { reason: 'e2e ticket 7', previousStatus: 'enabled' },
    });

    // Nothing secret: not the TOTP secret, no recovery code (as shown or canonical), no digest or hash.
    expect(text).not.toContain(secret);
    for (const code of recoveryCodes) {
      expect(text).not.toContain(code);
      expect(text).not.toContain(code.replace('-', ''));
    }
    for (const word of ['digests', 'salt', 'ciphertext', 'nonce', '"hash"', 'argon2'])
      expect(text).not.toContain(word);
    // …nor in the whole stream
    const everything = await audit('');
    expect(everything.response.text).not.toContain(secret);
    for (const code of recoveryCodes) expect(everything.response.text).not.toContain(code);
  });

  it('filters by after, since, until and limit', async () => {
    const user = newUser('filtered');
    await enable(user);
    for (let i = 0; i < 3; i++) {
      await t.call('POST', `/v1/users/${user}/two-factor/verify`, { body: { code: '000000' } });
    }
    const { records } = await auditOf(user, 5);
    const all = (await audit('')).records;
    expect(all.length).toBeGreaterThanOrEqual(records.length);

    const third = records[2]!;
    const after = (await audit(`?userId=${user}&after=${third.position}`)).records;
    expect(after).toEqual(records.slice(3));
    const afterAll = (await audit(`?after=${third.position}`)).records;
    expect(afterAll).toEqual(all.filter((r) => BigInt(r.position) > BigInt(third.position)));

    expect((await audit(`?userId=${user}&limit=2`)).records).toEqual(records.slice(0, 2));

    const since = records[1]!.recordedAt;
    const until = records[4]!.recordedAt;
    const window = (
      await audit(`?userId=${user}&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`)
    ).records;
    expect(window).toEqual(records.filter((r) => r.recordedAt >= since && r.recordedAt < until));
    const future = (await audit(`?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).records;
    expect(future).toEqual([]);
    expect((await audit('?userId=nobody-at-all')).records).toEqual([]);
  });
});
