import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { AuditRecord } from '../../src/projections/auditRecord.ts';
import { eventually } from '../support/eventually.ts';
import { codeAt, KEYS, type TestService } from '../support/testService.ts';

/* What the read-model endpoint suites (readModels*.e2e.test.ts) share: users, headers, waits. */

let run = 0;
/** A user id no other test of this file uses. */
export const newUser = (label: string) => `rm-${label}-${++run}`;

export const admin = { key: KEYS.admin, headers: { 'x-actor-id': 'root@example.com' } };

/** Headers the web API forwards for a user's request; `id` becomes the correlation id. */
export const fromUser = (id: string = randomUUID()) => ({
  'x-request-id': id,
  'x-end-user-ip': '203.0.113.42',
  'x-end-user-agent': 'Mozilla/5.0 (e2e)',
});

/** How long the read models may lag behind the commands here. */
export const LAG_MS = 5_000;

/** The calls the suites make of the service `service()` returns (started in their beforeAll). */
export function readModelCalls(service: () => TestService) {
  async function audit(query: string) {
    const t = service();
    const response = await t.call('GET', `/v1/audit/events${query}`, { key: KEYS.audit });
    expect(response.status, response.text).toBe(200);
    const lines = response.text.split('\n');
    expect(lines.at(-1)).toBe(''); // every line ends in \n
    return { response, records: lines.slice(0, -1).map((line) => JSON.parse(line) as AuditRecord) };
  }

  async function auditOf(userId: string, count: number) {
    return eventually(
      async () => {
        const { records, response } = await audit(`?userId=${userId}`);
        return records.length >= count ? { records, text: response.text } : undefined;
      },
      `${count} audit records of ${userId}`,
      LAG_MS,
    );
  }

  async function enable(userId: string, headers: Record<string, string> = fromUser()) {
    const t = service();
    const started = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment`, {
      body: { accountName: `${userId}@example.com` },
      headers,
    });
    expect(started.status).toBe(201);
    const confirmed = await t.call('POST', `/v1/users/${userId}/two-factor/enrollment/confirm`, {
      body: { code: codeAt(started.json.secret, t.clock.now()) },
      headers: fromUser(),
    });
    expect(confirmed.status).toBe(200);
    t.clock.advance(30_000);
    return { secret: started.json.secret as string, recoveryCodes: confirmed.json.recoveryCodes as string[] };
  }

  return { audit, auditOf, enable };
}
