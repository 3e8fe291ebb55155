import fc from 'fast-check';
import { expect, it } from 'vitest';
import { injectServiceForSuite } from '../support/injectService.ts';
import { KEYS } from '../support/testService.ts';

// In process, through app.inject, which sends what fetch sent here before (the same URL parser,
// header values trimmed, a text/plain type on a body without one): schemas need no socket.
const t = injectServiceForSuite({ logLevel: 'silent' });

const ROUTES: ReadonlyArray<[method: string, template: string, key: string]> = [
  ['GET', '/v1/users/{id}/two-factor', KEYS.web],
  ['POST', '/v1/users/{id}/two-factor/enrollment', KEYS.web],
  ['POST', '/v1/users/{id}/two-factor/enrollment/confirm', KEYS.web],
  ['POST', '/v1/users/{id}/two-factor/verify', KEYS.web],
  ['POST', '/v1/users/{id}/two-factor/recovery-codes', KEYS.web],
  ['POST', '/v1/users/{id}/two-factor/disable', KEYS.web],
  ['POST', '/v1/admin/users/{id}/two-factor/reset', KEYS.admin],
  ['POST', '/v1/admin/users/{id}/two-factor/unlock', KEYS.admin],
  ['PUT', '/v1/admin/policy', KEYS.admin],
  ['GET', '/v1/audit/users/{id}/two-factor', KEYS.audit],
];

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const fieldValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^\d{6}$/),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  jsonValue,
);
const plausibleBody = fc.record(
  {
    code: fieldValue,
    recoveryCode: fieldValue,
    accountName: fieldValue,
    reason: fieldValue,
    requireTwoFactor: fieldValue,
    __proto__: fieldValue,
    constructor: fieldValue,
  },
  { requiredKeys: [] },
);
const rawBody = fc.oneof(
  plausibleBody.map((b) => JSON.stringify(b)),
  jsonValue.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('{', '{"code":', 'null', '[]', '"x"', '{"__proto__":{"admin":true}}', '\u0000'),
);
const userId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('..', '%2e%2e', '%00', 'a'.repeat(129), '%E0%A4%A', '😀'),
);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,100}$/);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  '',
);
const query = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 60 }).map((s) => `?at=${encodeURIComponent(s)}`),
  fc.constantFrom('?at=2026-01-01T00:00:00Z', '?at=', '?at[]=1', '?at=1&at=2'),
);

it('answers thousands of malformed requests without a 5xx, and keeps answering', async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      userId,
      rawBody,
      contentType,
      fc.record(
        {
          'x-actor-id': headerValue,
          'x-end-user-ip': headerValue,
          'x-end-user-agent': headerValue,
          'x-request-id': headerValue,
        },
        { requiredKeys: [] },
      ),
      query,
      async ([method, template, key], id, body, type, headers, q) => {
        const path = template.replace('{id}', encodeURIComponent(id).replaceAll('%25', '%'));
        let status: number;
        try {
          status = (
            await t.call(method, `${path}${q}`, {
              key,
              headers: { ...(type ? { 'content-type': type } : {}), ...headers },
              ...(method === 'GET' ? {} : { rawBody: body }),
            })
          ).status;
        } catch {
          // A URL the client itself refuses to send never reached the server.
          return;
        }
        seen.set(status, (seen.get(status) ?? 0) + 1);
        expect(status, `${method} ${path}${q} ${type} ${body}`).toBeLessThan(500);
      },
    ),
    { numRuns: 2000 },
  );
  expect(seen.get(400) ?? 0).toBeGreaterThan(100);
  const live = await t.call('GET', '/health/live', { key: null });
  expect(live.status).toBe(200);
}, 180_000);
