import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { admin, fromUser, LAG_MS, newUser, readModelCalls } from './readModelsKit.ts';

/* GET /v1/notifications: the change feed, in log order, resumable. */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});
const { enable } = readModelCalls(() => t);

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
