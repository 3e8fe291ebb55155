import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestService, type TestService } from '../support/testService.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

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

  it('answers malformed HTTP with a problem document before closing', async () => {
    const url = new URL(t.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('GARBAGE / HTTP/9\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('"code":"invalid-request"');
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
