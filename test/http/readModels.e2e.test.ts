import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';

let t: TestService;
let run = 0;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

/** A user id no other test of this file uses. */
const newUser = (label: string) => `rm-${label}-${++run}`;

const admin = { key: KEYS.admin, headers: { 'x-actor-id': 'root@example.com' } };

/** Headers the web API forwards for a user's request; `id` becomes the correlation id. */
const fromUser = (id: string = randomUUID()) => ({
  'x-request-id': id,
  'x-end-user-ip': '203.0.113.42',
  'x-end-user-agent': 'Mozilla/5.0 (e2e)',
});

/** How long the read models may lag behind the commands here. */
const LAG_MS = 5_000;

type AuditLine = {
  position: string;
  recordedAt: string;
  userId: string | null;
  type: string;
  actor: { role: string; id: string | null };
  correlationId: string | null;
  endUserIp: string | null;
  endUserAgent: string | null;
  details: Record<string, unknown>;
};

async function audit(query: string) {
  const response = await t.call('GET', `/v1/audit/events${query}`, { key: KEYS.audit });
  expect(response.status, response.text).toBe(200);
  const lines = response.text.split('\n');
  expect(lines.at(-1)).toBe(''); // every line ends in \n
  return { response, records: lines.slice(0, -1).map((line) => JSON.parse(line) as AuditLine) };
}

async function auditOf(userId: string, count: number) {
  return eventually(
    async () => {
      const { records, response } = await audit(`?userId=${userId}`);
      return records.length >= count ? { records, text: response.text } : undefined;
    },
    `${count} audit records of ${userId}`,
    LAG_MS,
  );
}

async function enable(userId: string, headers: Record<string, string> = fromUser()) {
  const started = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment`, {
    body: { accountName: `${userId}@example.com` },
    headers,
  });
  expect(started.status).toBe(201);
  const confirmed = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment/confirm`, {
    body: { code: codeAt(started.json.secret, t.clock.now()) },
    headers: fromUser(),
  });
  expect(confirmed.status).toBe(200);
  t.clock.advance(30_000);
  return { secret: started.json.secret as string, recoveryCodes: confirmed.json.recoveryCodes as string[] };
}

describe('readiness', () => {
  it('is 200 once the read models have caught up', async () => {
    const ready = await eventually(
      async () => {
        const response = await t.call('GET', '/health/ready', { key: null });
        return response.status === 200 ? response : undefined;
      },
      'readiness',
      LAG_MS,
    );
    expect(ready.json).toMatchObject({ status: 'ok', detail: expect.stringMatching(/read models/) });
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const doc = await t.call('GET', '/docs/json', { key: null });
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/v1/admin/users', '/v1/audit/events', '/v1/notifications']),
    );
    expect(Object.keys(doc.json.paths['/v1/audit/events'].get.responses['200'].content)).toEqual([
      'application/x-ndjson',
    ]);
  });
});

describe('GET /v1/admin/users', () => {
  it('lists users with their status, filters by status and pages with nextCursor', async () => {
    const enabledUser = newUser('enabled');
    const pendingUser = newUser('pending');
    const disabledUser = newUser('disabled');
    const { secret } = await enable(enabledUser);
    expect(
      (
        await t.call('POST', `/v1/users/${pendingUser}/two-factor/enrollment`, {
          body: { accountName: 'p@example.com' },
        })
      ).status,
    ).toBe(201);
    const other = await enable(disabledUser);
    expect(
      (
        await t.call('POST', `/v1/users/${disabledUser}/two-factor/disable`, {
          body: { code: codeAt(other.secret, t.clock.now()) },
        })
      ).status,
    ).toBe(200);
    t.clock.advance(30_000);
    // verify once with a recovery code: one fewer left
    expect(
      (
        await t.call('POST', `/v1/users/${enabledUser}/two-factor/verify`, {
          body: { code: codeAt(secret, t.clock.now()) },
        })
      ).status,
    ).toBe(200);

    const all = await eventually(
      async () => {
        const response = await t.call('GET', '/v1/admin/users?limit=500', { key: KEYS.admin });
        expect(response.status).toBe(200);
        const ids = response.json.users.map((user: { userId: string }) => user.userId);
        return [enabledUser, pendingUser, disabledUser].every((id) => ids.includes(id))
          ? response.json
          : undefined;
      },
      'the three users in the list',
      LAG_MS,
    );
    const byId = (users: { userId: string }[], id: string) => users.find((user) => user.userId === id);
    expect(byId(all.users, enabledUser)).toEqual({
      userId: enabledUser,
      status: 'enabled',
      enabledAt: expect.any(String),
      recoveryCodesRemaining: 10,
      locked: false,
    });
    expect(byId(all.users, pendingUser)).toMatchObject({ status: 'pending', enabledAt: null, locked: false });
    expect(byId(all.users, disabledUser)).toMatchObject({ status: 'disabled', recoveryCodesRemaining: 0 });
    expect(all.nextCursor).toBeNull();

    for (const status of ['enabled', 'pending', 'disabled'] as const) {
      const response = await t.call('GET', `/v1/admin/users?status=${status}`, { key: KEYS.admin });
      expect(response.status).toBe(200);
      for (const user of response.json.users) expect(user.status).toBe(status);
    }

    // Page by page, one at a time, the same list in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 200; page++) {
      const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${encodeURIComponent(cursor)}`;
      const response = await t.call('GET', `/v1/admin/users${query}`, { key: KEYS.admin });
      expect(response.status).toBe(200);
      expect(response.json.users.length).toBeLessThanOrEqual(1);
      paged.push(...response.json.users.map((user: { userId: string }) => user.userId));
      cursor = response.json.nextCursor;
      if (cursor === null) break;
    }
    expect(paged).toEqual(all.users.map((user: { userId: string }) => user.userId));
  });

  it('counts a pending enrollment as disabled once it expired', async () => {
    const user = newUser('expiring');
    await t.call('POST', `/v1/users/${user}/two-factor/enrollment`, {
      body: { accountName: 'x@example.com' },
    });
    await eventually(
      async () => {
        const response = await t.call('GET', '/v1/admin/users?status=pending&limit=500', { key: KEYS.admin });
        return response.json.users.some((u: { userId: string }) => u.userId === user) ? true : undefined;
      },
      'the pending user',
      LAG_MS,
    );
    t.clock.advance(16 * 60_000);
    const pending = await t.call('GET', '/v1/admin/users?status=pending&limit=500', { key: KEYS.admin });
    expect(pending.json.users.map((u: { userId: string }) => u.userId)).not.toContain(user);
    const disabled = await t.call('GET', '/v1/admin/users?status=disabled&limit=500', { key: KEYS.admin });
    expect(disabled.json.users.map((u: { userId: string }) => u.userId)).toContain(user);
  });
});

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

describe('GET /v1/notifications', () => {
  type Note = {
    position: string;
    userId: string;
    kind: string;
    occurredAt: string;
    details: Record<string, unknown>;
  };

  async function feed(query = ''): Promise<{ notifications: Note[]; nextAfter: string | null }> {
    const response = await t.call('GET', `/v1/notifications${query}`, { key: KEYS.web });
    expect(response.status, response.text).toBe(200);
    return response.json;
  }

  async function allNotifications(): Promise<Note[]> {
    const out: Note[] = [];
    let after: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const result = await feed(after === null ? '?limit=500' : `?limit=500&after=${after}`);
      out.push(...result.notifications);
      if (result.notifications.length === 0) return out;
      after = result.nextAfter;
    }
    throw new Error('too many pages');
  }

  it('tells of each change in log order, the recovery codes running low included, and resumes after nextAfter', async () => {
    const before = await feed('?limit=500');
    const startAfter = before.nextAfter;
    const user = newUser('notified');
    const { secret, recoveryCodes } = await enable(user, fromUser());
    for (const code of recoveryCodes.slice(0, 8)) {
      const used = await t.call('POST', `/v1/users/${user}/two-factor/verify`, {
        body: { recoveryCode: code },
        headers: fromUser(),
      });
      expect(used.status).toBe(200);
    }
    for (let i = 0; i < 5; i++) {
      await t.call('POST', `/v1/users/${user}/two-factor/verify`, { body: { code: '000000' } });
    }
    t.clock.advance(2 * 60_000);
    const regenerated = await t.call('POST', `/v1/users/${user}/two-factor/recovery-codes`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(regenerated.status).toBe(200);
    t.clock.advance(30_000);
    expect(
      (
        await t.call('POST', `/v1/users/${user}/two-factor/disable`, {
          body: { code: codeAt(secret, t.clock.now()) },
          headers: fromUser(),
        })
      ).status,
    ).toBe(200);
    // A reset of a user without 2FA changes nothing for them: recorded, not told.
    await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, { ...admin, body: { reason: 'no-op' } });
    const again = await t.call('POST', `/v1/users/${user}/two-factor/enrollment`, {
      body: { accountName: user },
    });
    t.clock.advance(30_000);
    const reenabled = await t.call('POST', `/v1/users/${user}/two-factor/enrollment/confirm`, {
      body: { code: codeAt(again.json.secret, t.clock.now()) },
    });
    expect(reenabled.status).toBe(200);
    await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, {
      ...admin,
      body: { reason: 'internal note 99' },
    });

    const mine = await eventually(
      async () => {
        const notes = (await allNotifications()).filter((note) => note.userId === user);
        return notes.at(-1)?.kind === 'admin-reset' ? notes : undefined;
      },
      'the notifications of the user',
      LAG_MS,
    );
    expect(mine.map((note) => note.kind)).toEqual([
      'two-factor-enabled',
      ...[9, 8, 7, 6, 5, 4, 3].map(() => 'recovery-code-used'),
      'recovery-code-used',
      'recovery-codes-low',
      'factor-locked',
      'recovery-codes-regenerated',
      'two-factor-disabled',
      'two-factor-enabled',
      'admin-reset',
    ]);
    const used = mine.filter((note) => note.kind === 'recovery-code-used');
    expect(used.map((note) => note.details.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2]);
    const low = mine.find((note) => note.kind === 'recovery-codes-low')!;
    expect(low.details.remaining).toBe(2);
    expect(low.position).toBe(used.at(-1)!.position);
    expect(used[0]!.details).toMatchObject({
      endUserIp: '203.0.113.42',
      endUserAgent: 'Mozilla/5.0 (e2e)',
      occurredAt: used[0]!.occurredAt,
    });
    expect(mine.find((note) => note.kind === 'factor-locked')!.details.lockedUntil).toEqual(
      expect.any(String),
    );
    const reset = mine.at(-1)!;
    expect(JSON.stringify(reset)).not.toContain('internal note 99');
    expect(Number.isNaN(Date.parse(reset.occurredAt))).toBe(false);
    const text = JSON.stringify(mine);
    expect(text).not.toContain(secret);
    for (const code of recoveryCodes) expect(text).not.toContain(code);

    // Resuming page by page from where the poller was gives exactly these, in order.
    const resumed: Note[] = [];
    let after = startAfter;
    for (let page = 0; page < 1000; page++) {
      const result: { notifications: Note[]; nextAfter: string | null } = await feed(
        after === null ? '?limit=3' : `?limit=3&after=${after}`,
      );
      if (result.notifications.length === 0) {
        expect(result.nextAfter).toBe(after);
        break;
      }
      resumed.push(...result.notifications);
      expect(result.nextAfter).toBe(result.notifications.at(-1)!.position);
      after = result.nextAfter;
    }
    expect(resumed.filter((note) => note.userId === user)).toEqual(mine);
    const positions = resumed.map((note) => BigInt(note.position));
    for (let i = 1; i < positions.length; i++) expect(positions[i]! >= positions[i - 1]!).toBe(true);
  });
});
