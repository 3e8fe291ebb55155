import type { KEYS } from '../support/testService.ts';

/** Every route that needs a key, with the role it needs and a body that would be valid. */
export const PROTECTED: ReadonlyArray<
  [method: string, path: string, role: keyof typeof KEYS, body?: unknown]
> = [
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

/** The routes served from the read models, with the role each needs. */
export const READ_MODEL_ROUTES: ReadonlyArray<[path: string, role: keyof typeof KEYS]> = [
  ['/v1/admin/users', 'admin'],
  ['/v1/admin/users/summary', 'admin'],
  ['/v1/audit/events', 'audit'],
  ['/v1/notifications', 'web'],
];
