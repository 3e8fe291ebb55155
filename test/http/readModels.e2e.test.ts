import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import { startTestService, type TestService } from '../support/testService.ts';
import { LAG_MS } from './readModelsKit.ts';

/*
 * The read models seen from outside: readiness waits for them, and the OpenAPI document lists
 * their routes. Each endpoint has its own readModels*.e2e.test.ts beside this one.
 */

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => {
  await t?.stop();
});

describe('readiness', () => {
  it('is 200 once the read models have caught up', async () => {
    const ready = await eventually(
      async () => {
        const response = await t.call('GET', '/health/ready', { key: null });
        return response.status === 200 ? response : undefined;
      },
      'readiness',
      LAG_MS,
    );
    expect(ready.json).toMatchObject({ status: 'ok', detail: expect.stringMatching(/read models/) });
  });

  it('documents the new routes in the OpenAPI document', async () => {
    const doc = await t.call('GET', '/docs/json', { key: null });
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining(['/v1/admin/users', '/v1/audit/events', '/v1/notifications']),
    );
    expect(Object.keys(doc.json.paths['/v1/audit/events'].get.responses['200'].content)).toEqual([
      'application/x-ndjson',
    ]);
  });
});
