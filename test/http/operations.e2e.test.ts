import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/testService.ts';
import { PROTECTED } from './protectedRoutes.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
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
