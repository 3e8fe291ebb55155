import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';
import { asAdmin as admin, enableTwoFactor, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * "Require 2FA for all users" over HTTP: the status document's enrollmentRequired and
 * enrollBy, the grace period, the deadline recorded once, the admin's coverage. The policy is
 * instance-wide, so each part has a service of its own.
 */

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

const setPolicy = (t: TestService, body: Record<string, unknown>) =>
  t.call('PUT', '/v1/admin/policy', admin({ body }));

async function streamOf(t: TestService, userId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  // The metadata as every reader sees it (stored packed as version 2).
  for await (const event of t.server.runtime.store.readStream(`two-factor-${userId}`)) {
    events.push({ ...event, metadata: readMetadata(event.metadata) as RecordedEvent['metadata'] });
  }
  return events;
}

const deadlinesOf = async (t: TestService, userId: string) =>
  (await streamOf(t, userId)).filter((event) => event.type === 'EnrollmentDeadlineRecorded');

const statusOf = async (t: TestService, userId: string, headers: Record<string, string> = {}) => {
  const response = await t.call('GET', twoFactorPath(userId), { headers });
  expect(response.status, response.text).toBe(200);
  return response.json;
};

describe('the status document at sign-in, while 2FA is required', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a user without 2FA: enrollmentRequired with a deadline recorded once, that follows the grace', async () => {
    const user = 'grace-ada';
    expect(await statusOf(t, user)).toMatchObject({
      required: false,
      enrollmentRequired: false,
      enrollBy: null,
    });
    expect(await streamOf(t, user)).toEqual([]); // a read writes nothing while 2FA is not required

    const on = await setPolicy(t, { requireTwoFactor: true, gracePeriodHours: 72 });
    expect(on.status, on.text).toBe(200);
    const since = t.clock.now();
    expect(on.json).toEqual({
      requireTwoFactor: true,
      gracePeriodHours: 72,
      requiredSince: iso(since),
      updatedAt: iso(since),
      updatedBy: 'root@example.com',
    });

    // The web tier reads the status at sign-in, an hour after the policy changed.
    t.clock.advance(HOUR);
    const seenAt = t.clock.now();
    const requestId = randomUUID();
    const first = await statusOf(t, user, { 'x-request-id': requestId, 'x-end-user-ip': '203.0.113.5' });
    expect(first).toMatchObject({
      status: 'disabled',
      required: true,
      enrollmentRequired: true,
      enrollBy: iso(seenAt + 72 * HOUR),
      canDefer: true,
      canDisable: false,
    });
    const [recorded, ...more] = await deadlinesOf(t, user);
    expect(more).toEqual([]);
    expect(recorded).toMatchObject({
      data: {
        at: iso(seenAt),
        seenThrough: 'status',
        requiredSince: iso(since),
        enrollBy: iso(seenAt + 72 * HOUR),
      },
      metadata: { correlationId: requestId, actor: { role: 'web', id: null } },
    });

    // "Remind me later": a day on, the deadline has not moved and nothing more is written.
    t.clock.advance(24 * HOUR);
    expect((await statusOf(t, user)).enrollBy).toBe(iso(seenAt + 72 * HOUR));
    expect(await deadlinesOf(t, user)).toHaveLength(1);

    // The administrator cuts the grace to 12 hours: the user who deferred is past it now.
    const cut = await setPolicy(t, { requireTwoFactor: true, gracePeriodHours: 12 });
    expect(cut.json).toMatchObject({ gracePeriodHours: 12, requiredSince: iso(since) });
    const forced = await statusOf(t, user);
    expect(forced).toMatchObject({
      enrollmentRequired: true,
      enrollBy: iso(seenAt + 12 * HOUR),
      canDefer: false,
    });
    expect(Date.parse(forced.enrollBy)).toBeLessThan(t.clock.now());
    expect(await deadlinesOf(t, user)).toHaveLength(1);

    // The status as it stood before the cut still shows the longer deadline.
    const before = await t.call('GET', `/v1/audit/users/${user}/two-factor?at=${iso(seenAt + HOUR)}`, {
      key: KEYS.audit,
    });
    expect(before.json).toMatchObject({ enrollmentRequired: true, enrollBy: iso(seenAt + 72 * HOUR) });
    const earlier = await t.call('GET', `/v1/audit/users/${user}/two-factor?at=${iso(since - 1)}`, {
      key: KEYS.audit,
    });
    expect(earlier.json).toMatchObject({ required: false, enrollmentRequired: false, enrollBy: null });

    // Once enrolled, nothing is required of the user any more.
    await enableTwoFactor(t, user);
    expect(await statusOf(t, user)).toMatchObject({
      status: 'enabled',
      enrollmentRequired: false,
      enrollBy: null,
      canDisable: false,
    });
  });

  it('an enrollment start and a sign-in attempt count as seeing the user; a pending user is still required', async () => {
    const starter = 'grace-starter';
    const started = await t.call('POST', `${twoFactorPath(starter)}/enrollment`, {
      body: { accountName: starter },
    });
    expect(started.status).toBe(201);
    expect(await deadlinesOf(t, starter)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ seenThrough: 'enrollment' }) }),
    ]);
    expect(await statusOf(t, starter)).toMatchObject({ status: 'pending', enrollmentRequired: true });

    const stranger = 'grace-stranger';
    const attempt = await t.call('POST', `${twoFactorPath(stranger)}/verify`, { body: { code: '123456' } });
    expect(attempt.status).toBe(409);
    expect(attempt.json.code).toBe('not-enabled');
    expect(await deadlinesOf(t, stranger)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ seenThrough: 'sign-in' }) }),
    ]);
  });

  it('after an emergency reset the user enrolls again at the next sign-in: enrollBy is the reset', async () => {
    const user = 'grace-reset';
    await enableTwoFactor(t, user);
    const resetAt = t.clock.now();
    const reset = await t.call(
      'POST',
      `/v1/admin/users/${user}/two-factor/reset`,
      admin({ body: { reason: 'lost phone, ticket 7' } }),
    );
    expect(reset.status).toBe(200);
    t.clock.advance(1_000);
    expect(await statusOf(t, user)).toMatchObject({
      status: 'disabled',
      enrollmentRequired: true,
      enrollBy: iso(resetAt),
      canDefer: false,
    });
  });

  it('a user cannot disable 2FA while it is required', async () => {
    const user = 'grace-keeper';
    const { secret } = await enableTwoFactor(t, user);
    const disable = await t.call('POST', `${twoFactorPath(user)}/disable`, {
      body: { code: codeAt(secret, t.clock.now()) },
    });
    expect(disable.status).toBe(403);
    expect(disable.json.code).toBe('two-factor-required');
  });

  it('turned off: nobody is required; turned on again: everyone is seen afresh from the new start', async () => {
    const user = 'grace-again';
    await statusOf(t, user);
    const off = await setPolicy(t, { requireTwoFactor: false });
    expect(off.json).toMatchObject({ requireTwoFactor: false, gracePeriodHours: 0, requiredSince: null });
    expect(await statusOf(t, user)).toMatchObject({
      required: false,
      enrollmentRequired: false,
      enrollBy: null,
    });

    t.clock.advance(HOUR);
    const on = await setPolicy(t, { requireTwoFactor: true, gracePeriodHours: 48 });
    expect(on.json.requiredSince).toBe(iso(t.clock.now()));
    t.clock.advance(HOUR);
    expect((await statusOf(t, user)).enrollBy).toBe(iso(t.clock.now() + 48 * HOUR));
    const periods = (await deadlinesOf(t, user)).map((event) => event.data.requiredSince);
    expect(periods).toEqual([expect.any(String), on.json.requiredSince]);
  });

  it('twenty simultaneous first reads record one deadline, and all answer with it', async () => {
    const user = `grace-crowd-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 20 }, () => statusOf(t, user)));
    expect(new Set(answers.map((answer) => answer.enrollBy)).size).toBe(1);
    expect(answers[0].enrollmentRequired).toBe(true);
    expect(await deadlinesOf(t, user)).toHaveLength(1);
  });
});

describe('PUT /v1/admin/policy: the grace period', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each([[-1], [8761], [1.5], ['72'], [null], [1e20]])(
    'refuses gracePeriodHours %j with 400 invalid-request naming the field, and changes nothing',
    async (gracePeriodHours) => {
      const response = await setPolicy(t, { requireTwoFactor: true, gracePeriodHours });
      expect(response.status).toBe(400);
      expect(response.json.code).toBe('invalid-request');
      expect(response.json.detail).toContain('body.gracePeriodHours');
      const policy = await t.call('GET', '/v1/admin/policy', { key: KEYS.admin });
      expect(policy.json).toMatchObject({ requireTwoFactor: false, updatedAt: null });
    },
  );

  it('takes 0 and 8760, and defaults to 0; GET returns what was set', async () => {
    for (const [body, expected] of [
      [{ requireTwoFactor: true, gracePeriodHours: 8760 }, 8760],
      [{ requireTwoFactor: true, gracePeriodHours: 0 }, 0],
      [{ requireTwoFactor: true, gracePeriodHours: 5 }, 5],
      [{ requireTwoFactor: true }, 0],
    ] as const) {
      const put = await setPolicy(t, body);
      expect(put.status, put.text).toBe(200);
      expect(put.json.gracePeriodHours).toBe(expected);
      const get = await t.call('GET', '/v1/admin/policy', { key: KEYS.admin });
      expect(get.json).toEqual(put.json);
    }
  });

  it('documents enrollmentRequired, enrollBy, gracePeriodHours, enrollBy in the list, and the summary', async () => {
    const doc = (await t.call('GET', '/docs/json', { key: null })).json;
    const schemaOf = (path: string, method: string, status = '200') =>
      doc.paths[path][method].responses[status].content['application/json'].schema;
    const status = schemaOf('/v1/users/{userId}/two-factor', 'get');
    expect(Object.keys(status.properties)).toEqual(
      expect.arrayContaining(['enrollmentRequired', 'enrollBy', 'canDefer']),
    );
    expect(status.required).toEqual(expect.arrayContaining(['enrollmentRequired', 'enrollBy', 'canDefer']));
    const body = doc.paths['/v1/admin/policy'].put.requestBody.content['application/json'].schema;
    expect(body.properties.gracePeriodHours).toMatchObject({ type: 'integer', minimum: 0, maximum: 8760 });
    expect(schemaOf('/v1/admin/policy', 'get').properties).toHaveProperty('gracePeriodHours');
    const list = schemaOf('/v1/admin/users', 'get');
    expect(list.properties.users.items.properties).toHaveProperty('enrollBy');
    const filter = doc.paths['/v1/admin/users'].get.parameters.find(
      (parameter: { name: string }) => parameter.name === 'status',
    );
    expect(filter.schema.enum).toContain('required');
    expect(Object.keys(schemaOf('/v1/admin/users/summary', 'get').properties)).toEqual(
      expect.arrayContaining(['seenUsers', 'enrolledUsers', 'pastDeadline']),
    );
  });
});

describe('the admin coverage: status=required and the summary', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const asAdminKey = { key: KEYS.admin };
  const required = async () =>
    (await t.call('GET', '/v1/admin/users?status=required&limit=500', asAdminKey)).json.users as {
      userId: string;
      status: string;
      enrollBy: string | null;
    }[];

  it('lists who is out of line with their deadlines, and counts N of M enrolled, K past their deadline', async () => {
    // Before the requirement: one user enrolled, one who started and gave up.
    await enableTwoFactor(t, 'cov-enrolled');
    await t.call('POST', `${twoFactorPath('cov-lapsed')}/enrollment`, { body: { accountName: 'x' } });
    t.clock.advance(HOUR);
    await setPolicy(t, { requireTwoFactor: true, gracePeriodHours: 48 });
    const since = t.clock.now();
    t.clock.advance(HOUR);
    await statusOf(t, 'cov-seen'); // signs in, defers
    await t.call('POST', `${twoFactorPath('cov-pending')}/enrollment`, { body: { accountName: 'p' } });
    await enableTwoFactor(t, 'cov-reset');
    await t.call(
      'POST',
      '/v1/admin/users/cov-reset/two-factor/reset',
      admin({ body: { reason: 'lost phone' } }),
    );
    const resetAt = t.clock.now();
    const seenAt = since + HOUR;

    const listed = await eventually(
      async () => {
        const users = await required();
        return users.length === 3 ? users : undefined;
      },
      'the three required users in the list',
      20_000,
    );
    expect(listed).toEqual([
      {
        userId: 'cov-pending',
        status: 'pending',
        enabledAt: null,
        recoveryCodesRemaining: 0,
        authenticators: 0,
        locked: false,
        recoveryCodesLocked: false,
        enrollBy: iso(seenAt + 48 * HOUR),
      },
      {
        userId: 'cov-reset',
        status: 'disabled',
        enabledAt: null,
        recoveryCodesRemaining: 0,
        authenticators: 0,
        locked: false,
        recoveryCodesLocked: false,
        enrollBy: iso(resetAt),
      },
      {
        userId: 'cov-seen',
        status: 'disabled',
        enabledAt: null,
        recoveryCodesRemaining: 0,
        authenticators: 0,
        locked: false,
        recoveryCodesLocked: false,
        enrollBy: iso(seenAt + 48 * HOUR),
      },
    ]);
    const all = (await t.call('GET', '/v1/admin/users?limit=500', asAdminKey)).json.users;
    for (const user of all) expect(user).toHaveProperty('enrollBy');
    expect(all.find((user: { userId: string }) => user.userId === 'cov-lapsed').enrollBy).toBeNull();
    expect(all.find((user: { userId: string }) => user.userId === 'cov-enrolled').enrollBy).toBeNull();

    const summary = await t.call('GET', '/v1/admin/users/summary', asAdminKey);
    expect(summary.status).toBe(200);
    expect(summary.json).toEqual({
      requireTwoFactor: true,
      gracePeriodHours: 48,
      requiredSince: iso(since),
      seenUsers: 4,
      enrolledUsers: 1,
      pastDeadline: 1,
      asOf: iso(t.clock.now()),
    });

    // Two days on, the deferring users are past their deadline too; a longer grace gives them time again.
    t.clock.advance(48 * HOUR);
    expect((await t.call('GET', '/v1/admin/users/summary', asAdminKey)).json.pastDeadline).toBe(3);
    await setPolicy(t, { requireTwoFactor: true, gracePeriodHours: 500 });
    await eventually(
      async () => {
        const body = (await t.call('GET', '/v1/admin/users/summary', asAdminKey)).json;
        return body.gracePeriodHours === 500 ? body : undefined;
      },
      'the longer grace in the summary',
      20_000,
    ).then((body) => expect(body.pastDeadline).toBe(1));
  });
});
