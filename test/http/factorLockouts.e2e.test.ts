import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin, enableTwoFactor, STEP, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * Each factor locked on its own, as a client of the API meets it: the reproductions of a
 * permanent lock reached in seconds with wrong recovery codes, and of recovery codes guessed
 * without limit once locked.
 */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t?.stop());

const base = twoFactorPath;
const ADDRESSES = [
  '198.51.100.1',
  '198.51.100.2',
  '198.51.100.3',
  '2001:db8:1::1',
  '2001:db8:2::1',
  '203.0.113.9',
];
const wrongRecoveryCode = (n: number) => `zzzzz-${String(n).padStart(5, '0')}`;

async function statusOf(user: string) {
  const status = await t.call('GET', base(user));
  expect(status.status).toBe(200);
  return status.json;
}

/** Waits out the current lock of the recovery codes, by the service's clock. */
async function waitOutRecoveryCodesLock(user: string) {
  const { recoveryCodesLockedUntil } = await statusOf(user);
  if (recoveryCodesLockedUntil !== null) t.clock.set(Date.parse(recoveryCodesLockedUntil));
}

describe('110 wrong recovery codes from six addresses, sent at once', () => {
  it('lock the recovery codes for a minute, not for good; the app still signs the user in', async () => {
    const user = 'flooded-at-once';
    const { secret } = await enableTwoFactor(t, user);
    const answers = await Promise.all(
      Array.from({ length: 110 }, (_, n) =>
        t.call('POST', `${base(user)}/verify`, {
          body: { recoveryCode: wrongRecoveryCode(n) },
          headers: { 'x-end-user-ip': ADDRESSES[n % ADDRESSES.length]! },
        }),
      ),
    );
    const byAnswer = new Map<string, number>();
    for (const a of answers)
      byAnswer.set(`${a.status} ${a.json.code}`, (byAnswer.get(`${a.status} ${a.json.code}`) ?? 0) + 1);
    // Five were checked; every other was refused unchecked by the lock of a minute.
    expect(Object.fromEntries(byAnswer)).toEqual({ '422 invalid-code': 5, '429 locked': 105 });
    expect(await statusOf(user)).toMatchObject({
      locked: false,
      lockedUntil: null,
      recoveryCodesLocked: true,
      recoveryCodesLockedUntil: new Date(t.clock.now() + 60_000).toISOString(),
    });
    const signIn = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(signIn.status).toBe(200);
  });
});

describe('wrong recovery codes kept up, each lock waited out', () => {
  it('take the doubling schedule to reach 100; meanwhile the app works, and then the recovery codes are disabled, the app not', async () => {
    const user = 'flooded-for-hours';
    const { secret, recoveryCodes } = await enableTwoFactor(t, user);
    const startedAt = t.clock.now();
    const lockMinutes: number[] = [];
    for (let n = 1; n <= 100; n++) {
      const answer = await t.call('POST', `${base(user)}/verify`, {
        body: { recoveryCode: wrongRecoveryCode(n) },
        headers: { 'x-end-user-ip': ADDRESSES[n % ADDRESSES.length]! },
      });
      expect(answer.status, `failure ${n}`).toBe(422);
      if (n % 5 === 0 && n < 100) {
        const { recoveryCodesLockedUntil, locked } = await statusOf(user);
        expect(locked).toBe(false);
        lockMinutes.push((Date.parse(recoveryCodesLockedUntil) - t.clock.now()) / 60_000);
        await waitOutRecoveryCodesLock(user);
        // Between locks the authenticator app is never blocked.
        t.clock.advance(STEP);
        const signIn = await t.call('POST', `${base(user)}/verify`, {
          body: { code: codeAt(secret, t.clock.now()) },
        });
        expect(signIn.status).toBe(200);
      }
    }
    expect(lockMinutes).toEqual([1, 2, 4, 8, 16, 32, ...Array(13).fill(60)]);
    // About fifteen hours, as for 100 wrong TOTP codes.
    expect(t.clock.now() - startedAt).toBeGreaterThan(14 * 3_600_000);
    expect(await statusOf(user)).toMatchObject({
      locked: false,
      recoveryCodesLocked: true,
      recoveryCodesLockedUntil: null,
    });

    // Disabled recovery codes are never checked again: even a right one is refused, unchecked.
    const right = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: recoveryCodes[0] } });
    expect(right.status).toBe(423);
    expect(right.json.code).toBe('locked');
    t.clock.advance(STEP);
    const signIn = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(signIn.status).toBe(200);

    // Regenerating them with a TOTP code brings codes that work.
    t.clock.advance(STEP);
    const regenerated = await t.call('POST', `${base(user)}/recovery-codes`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(regenerated.status).toBe(200);
    const fresh = await t.call('POST', `${base(user)}/verify`, {
      body: { recoveryCode: regenerated.json.recoveryCodes[0] },
    });
    expect(fresh.status).toBe(200);
    expect((await statusOf(user)).recoveryCodesLocked).toBe(false);
  });
});

describe('locked recovery codes', () => {
  it('refuse a right recovery code unchecked, and do not count it', async () => {
    const user = 'locked-codes';
    const { recoveryCodes } = await enableTwoFactor(t, user);
    for (let n = 0; n < 5; n++) {
      await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: wrongRecoveryCode(n) } });
    }
    const right = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: recoveryCodes[0] } });
    expect(right.status).toBe(429);
    expect(right.json.code).toBe('locked');
    expect(right.json.detail).toContain('recovery codes');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    // The audit read model follows the log in its own thread: wait for the refusal to reach it.
    const records = await eventually(async () => {
      const audit = await t.call('GET', `/v1/audit/events?userId=${user}`, { key: KEYS.audit });
      const lines = audit.text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      return lines.at(-1)?.type === 'VerificationRefused' ? lines : undefined;
    }, 'the refusal in the audit');
    expect(records.filter((r) => r.type === 'VerificationFailed').map((r) => r.details.factor)).toEqual(
      Array(5).fill('recovery-codes'),
    );
    expect(records.at(-1)).toMatchObject({
      type: 'VerificationRefused',
      details: { method: 'recovery-code', factor: 'recovery-codes' },
    });
    // The right code was not spent: once the lock ends, it works.
    await waitOutRecoveryCodesLock(user);
    const later = await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: recoveryCodes[0] } });
    expect(later.status).toBe(200);
  });
});

describe('the administrator', () => {
  it('sees which factor is locked in the user list, and one unlock clears both', async () => {
    const user = 'both-locked';
    const { secret } = await enableTwoFactor(t, user);
    for (let n = 0; n < 5; n++) {
      await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: wrongRecoveryCode(n) } });
      await t.call('POST', `${base(user)}/verify`, { body: { code: '000000' } });
    }
    expect(await statusOf(user)).toMatchObject({ locked: true, recoveryCodesLocked: true });
    const listed = await eventually(async () => {
      const page = await t.call('GET', '/v1/admin/users?status=enabled&limit=500', { key: KEYS.admin });
      return page.json.users.find(
        (u: { userId: string; locked: boolean; recoveryCodesLocked: boolean }) =>
          u.userId === user && u.locked && u.recoveryCodesLocked,
      );
    }, 'the user listed with both factors locked (the list follows the log a little behind)');
    expect(listed).toMatchObject({ locked: true, recoveryCodesLocked: true });
    expect(listed.userId).toBe(user);
    const unlocked = await t.call('POST', `/v1/admin/users/${user}/two-factor/unlock`, asAdmin());
    expect(unlocked.status).toBe(200);
    expect(unlocked.json).toMatchObject({
      locked: false,
      lockedUntil: null,
      recoveryCodesLocked: false,
      recoveryCodesLockedUntil: null,
    });
    t.clock.advance(STEP);
    expect(
      (await t.call('POST', `${base(user)}/verify`, { body: { code: codeAt(secret, t.clock.now()) } }))
        .status,
    ).toBe(200);
  });

  it('the notifications say which factor locked', async () => {
    const user = 'told-which';
    await enableTwoFactor(t, user);
    for (let n = 0; n < 5; n++) {
      await t.call('POST', `${base(user)}/verify`, { body: { recoveryCode: wrongRecoveryCode(n) } });
    }
    // The notifications follow the log in their own thread: wait for the lock to reach them.
    const locked = await eventually(async () => {
      const feed = await t.call('GET', '/v1/notifications?limit=500');
      const found = feed.json.notifications.filter(
        (n: { userId: string; kind: string }) => n.userId === user && n.kind === 'factor-locked',
      );
      return found.length > 0 ? found : undefined;
    }, 'the factor-locked notification');
    expect(locked).toHaveLength(1);
    expect(locked[0].details).toMatchObject({ factor: 'recovery-codes' });
    expect(locked[0].details.lockedUntil).not.toBeNull();
  });
});

describe('the OpenAPI document', () => {
  it('describes the recovery codes’ lockout in the status document and the user list', async () => {
    const docs = await t.call('GET', '/docs/json', { key: null });
    const text = JSON.stringify(docs.json);
    for (const field of ['recoveryCodesLocked', 'recoveryCodesLockedUntil']) expect(text).toContain(field);
    const list = docs.json.paths['/v1/admin/users'].get.responses['200'].content['application/json'].schema;
    expect(JSON.stringify(list)).toContain('recoveryCodesLocked');
  });
});
