import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { injectServiceForSuite } from '../support/injectService.ts';
import { KEYS } from '../support/testService.ts';
import { asAdmin as admin, enableTwoFactor, freshUserId, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * What the schemas of API.md refuse and accept — bodies, path parameters, query strings and
 * headers: a 400 naming the field (or 413, 415), decided before any command runs, and nothing
 * recorded. In process, through app.inject: no socket is needed to check a schema. What only a
 * real connection shows (malformed HTTP, slow clients, bytes a fetch would not send) is in the
 * e2e suites.
 */

const t = injectServiceForSuite();
let user: string;
beforeEach(() => {
  user = freshUserId();
});

const base = twoFactorPath;

describe('malformed input is a clear 4xx that changes nothing', () => {
  it('refuses an account name that cannot be put in an otpauth URI, and the user stays disabled', async () => {
    const response = await t.call('POST', '/v1/users/surrogate/two-factor/enrollment', {
      rawBody: '{"accountName":"ada\\ud800x"}',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.json.detail).toContain('body.accountName');
    expect((await t.call('GET', '/v1/users/surrogate/two-factor')).json.status).toBe('disabled');
    const control = await t.call('POST', '/v1/users/surrogate/two-factor/enrollment', {
      body: { accountName: 'ada\u0007' },
    });
    expect(control.status).toBe(400);
  });

  it('answers an overlong or undecodable path parameter with a 400 problem', async () => {
    const long = await t.call('GET', `/v1/users/${'a'.repeat(300)}/two-factor`);
    expect(long.status).toBe(400);
    expect(long.json.code).toBe('invalid-request');
    expect(long.json.detail).toContain('params.userId');
    const undecodable = await t.call('GET', '/v1/users/%zz/two-factor');
    expect(undecodable.status).toBe(400);
    expect(undecodable.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses a text body with 415', async () => {
    const response = await t.call('POST', '/v1/users/u1/two-factor/verify', {
      rawBody: '{"code":"123456"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(415);
    expect(response.json.code).toBe('unsupported-media-type');
  });

  it('names an unknown field, and explains that regeneration takes no recovery code', async () => {
    const unknown = await t.call('POST', '/v1/users/u1/two-factor/verify', {
      body: { code: '123456', cde: 1 },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.detail).toBe('body.cde: unknown field');
    const regenerate = await t.call('POST', '/v1/users/u1/two-factor/recovery-codes', {
      body: { recoveryCode: 'abcde-fghij' },
    });
    expect(regenerate.status).toBe(400);
    expect(regenerate.json.detail).toContain('body.recoveryCode');
    expect(regenerate.json.detail).toContain('authenticator code');
  });
});

describe('counts in query strings', () => {
  it.each(['1e3', '0x10', ' 7', '-1', '0', '1.5'])(
    'refuses limit=%s with 400 naming the field',
    async (limit) => {
      const response = await t.call('GET', `/v1/notifications?limit=${encodeURIComponent(limit)}`);
      expect(response.status).toBe(400);
      expect(response.json.detail).toContain('querystring.limit');
    },
  );

  it('takes a plain decimal count', async () => {
    expect((await t.call('GET', '/v1/notifications?limit=7')).status).toBe(200);
  });
});

describe('lenient where the contract is', () => {
  it('unlocks with an empty JSON body', async () => {
    const response = await t.call('POST', '/v1/admin/users/u1/two-factor/unlock', {
      key: KEYS.admin,
      rawBody: '',
      headers: { 'content-type': 'application/json', 'x-actor-id': 'ops+2fa@example.com' },
    });
    expect(response.status).toBe(200);
  });

  it('accepts base64 request ids and long user agents', async () => {
    const response = await t.call('POST', '/v1/users/lenient/two-factor/enrollment', {
      body: { accountName: 'lenient' },
      headers: {
        'x-request-id': 'YWJj+ZGVm/Z2hp==',
        'x-end-user-ip': '2001:db8::5',
        'x-end-user-agent': `Mozilla/5.0 ${'x'.repeat(2000)}`,
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('YWJj+ZGVm/Z2hp==');
  });

  it.each([
    'not-an-ip',
    // A forwarded list: its first entry is whatever the client wrote, so none is recorded.
    '6.6.6.6, 203.0.113.9',
    '203.0.113.9,10.0.0.1',
  ])('refuses %j as the end-user address, naming the header, and records nothing', async (value) => {
    const user = `address-${Buffer.from(value).toString('hex').slice(0, 16)}`;
    const response = await t.call('POST', `/v1/users/${user}/two-factor/enrollment`, {
      body: { accountName: 'lenient' },
      headers: { 'x-end-user-ip': value },
    });
    expect(response.status).toBe(400);
    expect(response.json.code).toBe('invalid-request');
    expect(response.json.detail).toContain('headers.x-end-user-ip');
    expect((await t.call('GET', `/v1/users/${user}/two-factor`)).json.status).toBe('disabled');
  });
});

describe('status', () => {
  it('refuses a malformed user id with 400 naming the field', async () => {
    const status = await t.call('GET', base('not valid!'));
    expect(status.status).toBe(400);
    expect(status.json.code).toBe('invalid-request');
    expect(status.json.detail).toContain('params.userId');
    expect(status.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('enrollment', () => {
  it.each([
    [{}, 'body.accountName'],
    [{ accountName: '' }, 'body.accountName'],
    [{ accountName: 'a'.repeat(255) }, 'body.accountName'],
    // 128 characters, 512 bytes in UTF-8: more than a URI (and its QR code) should carry
    [{ accountName: '😀'.repeat(128) }, 'body.accountName'],
    [{ accountName: 'a', extra: 1 }, 'body'],
    [{ accountName: 'a', code: '12' }, 'body.code'],
    [{ accountName: 'a', code: '123456', recoveryCode: 'abcde-fghij' }, 'body.code'],
  ])('refuses the malformed body %j with 400 naming %s', async (body, field) => {
    const response = await t.call('POST', `${base(user)}/enrollment`, { body });
    expect(response.status).toBe(400);
    expect(response.json.code).toBe('invalid-request');
    expect(response.json.detail).toContain(field);
    expect((await t.call('GET', base(user))).json.status).toBe('disabled');
  });

  it('takes an account name of 254 bytes in any script, and its QR code', async () => {
    const name = `${'é'.repeat(126)}@x`; // 126 × 2 bytes + 2
    const response = await t.call('POST', `${base(user)}/enrollment`, { body: { accountName: name } });
    expect(response.status).toBe(201);
    expect(response.json.otpauthUri).toContain(encodeURIComponent(name));
  });
});

describe('sign-in second step', () => {
  it.each([
    [{}],
    [{ code: '123456', recoveryCode: 'abcde-fghij' }],
    [{ code: 123456 }],
    [{ recoveryCode: 'x'.repeat(65) }],
  ])('refuses the malformed body %j with 400', async (body) => {
    const response = await t.call('POST', `${base(user)}/verify`, { body });
    expect(response.status).toBe(400);
    expect(response.json.code).toBe('invalid-request');
  });
});

describe('emergency reset', () => {
  it('requires X-Actor-Id and a reason', async () => {
    const noActor = await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, {
      key: KEYS.admin,
      body: { reason: 'x' },
    });
    expect(noActor.status).toBe(400);
    expect(noActor.json.detail).toContain('x-actor-id');
    const noReason = await t.call('POST', `/v1/admin/users/${user}/two-factor/reset`, admin({ body: {} }));
    expect(noReason.status).toBe(400);
    expect(noReason.json.detail).toContain('body.reason');
  });
});

describe('unlock', () => {
  it('requires X-Actor-Id', async () => {
    const response = await t.call('POST', `/v1/admin/users/${user}/two-factor/unlock`, { key: KEYS.admin });
    expect(response.status).toBe(400);
  });
});

describe('policy', () => {
  it.each([[{}], [{ requireTwoFactor: 'yes' }], [{ requireTwoFactor: true, extra: 1 }]])(
    'refuses %j with 400',
    async (body) => {
      const response = await t.call('PUT', '/v1/admin/policy', admin({ body }));
      expect(response.status).toBe(400);
      expect(response.json.code).toBe('invalid-request');
    },
  );
});

describe('audit: status at a past moment', () => {
  it('refuses a malformed time with 400 naming the field', async () => {
    const response = await t.call('GET', `/v1/audit/users/${user}/two-factor?at=yesterday`, {
      key: KEYS.audit,
    });
    expect(response.status).toBe(400);
    expect(response.json.detail).toContain('querystring.at');
  });
});

// The query strings of the read-model routes, each route with its role's key.
describe.each<[path: string, key: string, [query: string, field: string][]]>([
  [
    '/v1/admin/users',
    KEYS.admin,
    [
      ['status=active', 'status'],
      ['status=', 'status'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['cursor=%21%21', 'cursor'],
      [`cursor=${Buffer.from('not a user id').toString('base64url')}`, 'cursor'],
      ['colour=blue', 'colour'],
    ],
  ],
  [
    '/v1/audit/events',
    KEYS.audit,
    [
      ['after=abc', 'after'],
      ['after=-1', 'after'],
      ['after=123456789012345678901', 'after'],
      ['after=99999999999999999999', 'after'],
      ['since=yesterday', 'since'],
      ['until=2026-13-01T00:00:00Z', 'until'],
      ['userId=bad%20id', 'userId'],
      ['limit=0', 'limit'],
      ['limit=x', 'limit'],
    ],
  ],
  [
    '/v1/notifications',
    KEYS.web,
    [
      ['after=abc', 'after'],
      ['after=1.5', 'after'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['since=2026-01-01T00:00:00Z', 'since'],
    ],
  ],
])('GET %s', (path, key, cases) => {
  it.each(cases)('refuses ?%s with 400 invalid-request naming %s', async (query, field) => {
    const response = await t.call('GET', `${path}?${query}`, { key });
    expect(response.status).toBe(400);
    expect(response.json.code).toBe('invalid-request');
    expect(response.json.detail).toContain(field);
  });
});

describe('text that enters an event', () => {
  it('refuses bidirectional overrides and control characters in a reason and an actor id', async () => {
    const admin = { key: KEYS.admin };
    const reason = await t.call('POST', '/v1/admin/users/someone/two-factor/reset', {
      ...admin,
      headers: { 'x-actor-id': 'root' },
      body: { reason: 'ticket \u202E24' },
    });
    expect(reason.status).toBe(400);
    expect(reason.json.detail).toContain('body.reason');
    const actor = await t.call('POST', '/v1/admin/users/someone/two-factor/unlock', {
      ...admin,
      headers: { 'x-actor-id': 'root\u0085' },
    });
    expect(actor.status).toBe(400);
    expect(actor.json.detail).toContain('x-actor-id');
  });
});

describe('operations', () => {
  it('echoes X-Request-Id, makes one when absent, and refuses a malformed one', async () => {
    const given = await t.call('GET', '/health/live', { key: null, headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const made = await t.call('GET', '/health/live', { key: null });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await t.call('GET', '/v1/users/u1/two-factor', { headers: { 'x-request-id': 'a b' } });
    expect(bad.status).toBe(400);
  });

  it('refuses bad JSON with 400, a wrong content type with 415 and an oversize body with 413', async () => {
    const badJson = await t.call('POST', '/v1/users/u1/two-factor/verify', {
      rawBody: '{"code":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.json.code).toBe('invalid-request');
    const wrongType = await t.call('POST', '/v1/users/u1/two-factor/verify', {
      rawBody: 'code=123456',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(wrongType.status).toBe(415);
    const huge = await t.call('POST', '/v1/users/u1/two-factor/enrollment', {
      body: { accountName: 'a'.repeat(100_000) },
    });
    expect(huge.status).toBe(413);
  });
});

describe('erasure by crypto-shredding', () => {
  const asAdmin = { key: KEYS.admin, headers: { 'x-actor-id': 'root' } };

  beforeAll(async () => {
    await enableTwoFactor(t, 'erin');
  });

  it('refuses an erasure without a reason, or without an actor, and changes nothing', async () => {
    const noReason = await t.call('POST', '/v1/admin/users/erin/erase', { ...asAdmin, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.json.code).toBe('invalid-request');
    const noActor = await t.call('POST', '/v1/admin/users/erin/erase', {
      key: KEYS.admin,
      body: { reason: 'x' },
    });
    expect(noActor.status).toBe(400);
    const asWeb = await t.call('POST', '/v1/admin/users/erin/erase', { body: { reason: 'x' } });
    expect(asWeb.status).toBe(403);
    expect(await t.server.runtime.keys.store.get('erin')).not.toBeNull();
    expect((await t.call('GET', base('erin'))).json.status).toBe('enabled');
  });
});
