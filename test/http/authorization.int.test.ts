import { describe, expect, it } from 'vitest';
import { injectServiceForSuite } from '../support/injectService.ts';
import { KEYS } from '../support/testService.ts';
import { PROTECTED, READ_MODEL_ROUTES } from './protectedRoutes.ts';

// The 401/403 matrix of API.md, Authentication: decided before any handler runs, so in process.
const t = injectServiceForSuite();

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

  it('tells a client without a key how to authenticate', async () => {
    const response = await t.call('GET', '/v1/users/u1/two-factor', { key: null });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('authorization of the read-model routes', () => {
  it.each(READ_MODEL_ROUTES)('GET %s refuses a missing or unknown key with 401', async (path) => {
    for (const key of [null, 'not-a-key']) {
      const response = await t.call('GET', path, { key });
      expect(response.status).toBe(401);
      expect(response.json.code).toBe('unauthenticated');
    }
  });

  it.each(READ_MODEL_ROUTES)(
    'GET %s (role %s) refuses the keys of the other roles with 403',
    async (path, role) => {
      for (const other of (['web', 'admin', 'audit'] as const).filter((candidate) => candidate !== role)) {
        const response = await t.call('GET', path, { key: KEYS[other] });
        expect(response.status, other).toBe(403);
        expect(response.json.code).toBe('forbidden');
      }
    },
  );
});
