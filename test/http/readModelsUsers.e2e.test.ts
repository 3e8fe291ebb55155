import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { LAG_MS, newUser, readModelCalls } from './readModelsKit.ts';

/* GET /v1/admin/users: the users read model, its filters and pages. */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});
const { enable } = readModelCalls(() => t);

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
        // The list follows the log: wait for the last change of all, the disable, to show.
        const disabled = response.json.users.find((user: { userId: string }) => user.userId === disabledUser);
        return [enabledUser, pendingUser, disabledUser].every((id) => ids.includes(id)) &&
          disabled?.status === 'disabled'
          ? response.json
          : undefined;
      },
      'the three users in the list, the disable projected',
      LAG_MS,
    );
    const byId = (users: { userId: string }[], id: string) => users.find((user) => user.userId === id);
    expect(byId(all.users, enabledUser)).toEqual({
      userId: enabledUser,
      status: 'enabled',
      enabledAt: expect.any(String),
      recoveryCodesRemaining: 10,
      authenticators: 1,
      locked: false,
      recoveryCodesLocked: false,
      enrollBy: null,
    });
    expect(byId(all.users, pendingUser)).toMatchObject({ status: 'pending', enabledAt: null, locked: false });
    expect(byId(all.users, disabledUser)).toMatchObject({
      status: 'disabled',
      recoveryCodesRemaining: 0,
      authenticators: 0,
    });
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
