import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startTestService, type TestService } from '../support/testService.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

/** Every route that needs a key, with the role it needs and a body that would be valid. */
const PROTECTED: ReadonlyArray<[method: string, path: string, role: keyof typeof KEYS, body?: unknown]> = [
  ['GET', '/v1/users/u1/two-factor', 'web'],
  ['POST', '/v1/users/u1/two-factor/enrollment', 'web', { accountName: 'a' }],
  ['POST', '/v1/users/u1/two-factor/enrollment/confirm', 'web', { code: '123456' }],
  ['POST', '/v1/users/u1/two-factor/verify', 'web', { code: '123456' }],
  ['POST', '/v1/users/u1/two-factor/recovery-codes', 'web', { code: '123456' }],
  ['POST', '/v1/users/u1/two-factor/disable', 'web', { code: '123456' }],
  ['POST', '/v1/admin/users/u1/two-factor/reset', 'admin', { reason: 'r' }],
  ['POST', '/v1/admin/users/u1/two-factor/unlock', 'admin'],
  ['GET', '/v1/admin/policy', 'admin'],
  ['PUT', '/v1/admin/policy', 'admin', { requireTwoFactor: false }],
  ['GET', '/v1/audit/users/u1/two-factor?at=2026-01-01T00:00:00Z', 'audit'],
];

describe('authentication', () => {
  it.each(PROTECTED)('%s %s refuses a missing key with 401', async (method, path, _role, body) => {
    const response = await t.call(method, path, { key: null, body });
    expect(response.status).toBe(401);
    expect(response.json.code).toBe('unauthenticated');
  });

  it.each(PROTECTED)('%s %s refuses an unknown key with 401', async (method, path, _role, body) => {
    const response = await t.call(method, path, { key: `${KEYS.web}x`, body });
    expect(response.status).toBe(401);
  });

  it.each(PROTECTED)(
    '%s %s (role %s) refuses a key of another role with 403',
    async (method, path, role, body) => {
      const other = role === 'web' ? KEYS.audit : KEYS.web;
      const response = await t.call(method, path, { key: other, body });
      expect(response.status).toBe(403);
      expect(response.json.code).toBe('forbidden');
    },
  );
});

describe('operations', () => {
  it('answers liveness and readiness without a key', async () => {
    expect((await t.call('GET', '/health/live', { key: null })).status).toBe(200);
    const ready = await t.call('GET', '/health/ready', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.json.status).toBe('ok');
  });

  it('serves an OpenAPI 3 document listing every route, and its UI', async () => {
    const doc = await t.call('GET', '/docs/json', { key: null });
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toMatch(/^3\./);
    for (const [, path] of PROTECTED) {
      const template = path.split('?')[0]?.replace('/u1/', '/{userId}/') ?? '';
      expect(Object.keys(doc.json.paths)).toContain(template);
    }
    const ui = await t.call('GET', '/docs/', { key: null });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('<html');
  });

  it('exposes Prometheus metrics: requests, latencies, verifications and lockouts', async () => {
    await t.call('POST', '/v1/users/metrics-user/two-factor/verify', { body: { code: '123456' } });
    const metrics = await t.call('GET', '/metrics', { key: null });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toContain(
      'http_requests_total{method="POST",route="/v1/users/:userId/two-factor/verify",status="409"}',
    );
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
    expect(metrics.text).toContain('# TYPE twofactor_verifications_total counter');
    expect(metrics.text).toContain('# TYPE twofactor_lockouts_total counter');
  });

  it('echoes X-Request-Id, makes one when absent, and refuses a malformed one', async () => {
    const given = await t.call('GET', '/health/live', { key: null, headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const made = await t.call('GET', '/health/live', { key: null });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await t.call('GET', '/v1/users/u1/two-factor', { headers: { 'x-request-id': 'a b' } });
    expect(bad.status).toBe(400);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await t.call('GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.json.code).toBe('not-found');
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

describe('store unavailable', () => {
  it('answers 503 unavailable with Retry-After, and readiness turns 503', async () => {
    const local = await startTestService();
    try {
      await local.server.runtime.store.close();
      const response = await local.call('POST', '/v1/users/u1/two-factor/enrollment', {
        body: { accountName: 'a' },
      });
      expect(response.status).toBe(503);
      expect(response.json.code).toBe('unavailable');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await local.call('GET', '/health/ready', { key: null })).status).toBe(503);
    } finally {
      await local.stop();
    }
  });
});
