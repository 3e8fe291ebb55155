import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';

let t: TestService;
beforeAll(async () => {
  t = await startTestService({ logLevel: 'trace' });
});
afterAll(async () => {
  await t?.stop();
});

it('writes no end-user address, agent or account name to the logs, even at trace: an erasure could not reach them', async () => {
  const before = t.logs.length;
  const ip = '198.51.100.231';
  const agent = 'LeakCheckBrowser/9.1';
  const account = 'personal-leak@example.com';
  const started = await t.call('POST', '/v1/users/leak-personal/two-factor/enrollment', {
    body: { accountName: account },
    headers: { 'x-end-user-ip': ip, 'x-end-user-agent': agent, 'user-agent': agent },
  });
  expect(started.status).toBe(201);
  const logs = t.logs.slice(before).join('');
  // The request was traced, headers and body included, with these fields redacted.
  expect(logs).toContain('"level":10');
  expect(logs).toContain('"x-end-user-ip":"[redacted]"');
  for (const value of [ip, agent, account]) expect(logs.includes(value), value).toBe(false);
});

it('writes no secret, code, recovery code or API key to the logs or the data files, even at trace', async () => {
  const user = 'leak-check';
  const path = `/v1/users/${user}/two-factor`;
  const started = await t.call('POST', `${path}/enrollment`, { body: { accountName: 'leak@example.com' } });
  const secret: string = started.json.secret;
  const confirmCode = codeAt(secret, t.clock.now());
  const confirmed = await t.call('POST', `${path}/enrollment/confirm`, { body: { code: confirmCode } });
  const firstCodes: string[] = confirmed.json.recoveryCodes;
  t.clock.advance(30_000);
  const signInCode = codeAt(secret, t.clock.now());
  expect((await t.call('POST', `${path}/verify`, { body: { code: signInCode } })).status).toBe(200);
  expect((await t.call('POST', `${path}/verify`, { body: { recoveryCode: firstCodes[0] } })).status).toBe(
    200,
  );
  await t.call('POST', `${path}/verify`, { body: { code: '999999' } });
  t.clock.advance(30_000);
  const regenerateCode = codeAt(secret, t.clock.now());
  const regenerated = await t.call('POST', `${path}/recovery-codes`, { body: { code: regenerateCode } });
  const secondCodes: string[] = regenerated.json.recoveryCodes;
  t.clock.advance(30_000);
  const disableCode = codeAt(secret, t.clock.now());
  expect((await t.call('POST', `${path}/disable`, { body: { code: disableCode } })).status).toBe(200);
  await t.call('GET', '/v1/admin/policy', { key: KEYS.admin });
  await t.call('GET', `/v1/audit/users/${user}/two-factor?at=2030-01-01T00:00:00Z`, { key: KEYS.audit });
  await t.server.runtime.store.close();

  const forbidden = new Map<string, string>([
    ['base32 secret', secret],
    ['API key web', KEYS.web],
    ['API key admin', KEYS.admin],
    ['API key audit', KEYS.audit],
    ...firstCodes.map((c, i) => [`recovery code ${i}`, c] as [string, string]),
    ...secondCodes.map((c, i) => [`new recovery code ${i}`, c] as [string, string]),
    ...firstCodes.map((c, i) => [`recovery code ${i} without dash`, c.replace('-', '')] as [string, string]),
  ]);
  const logs = t.logs.join('');
  expect(logs.length).toBeGreaterThan(1000);
  // Trace lines with headers and bodies were written, and redacted: the check below covers them.
  expect(logs).toContain('"level":10');
  expect(logs).toContain('"authorization":"[redacted]"');
  expect(logs).toContain('"recoveryCode":"[redacted]"');
  const files = readdirSync(t.dataDir).map((name) => ({
    name,
    content: readFileSync(join(t.dataDir, name)).toString('latin1'),
  }));
  expect(files.some((f) => f.name.startsWith('events'))).toBe(true);
  for (const [what, value] of forbidden) {
    expect(logs.includes(value), `${what} in logs`).toBe(false);
    for (const file of files) expect(file.content.includes(value), `${what} in ${file.name}`).toBe(false);
  }
  // The six-digit codes are too short to search a binary file for; the logs must not carry them.
  for (const code of [confirmCode, signInCode, regenerateCode, disableCode]) {
    expect(logs.includes(`"${code}"`), `TOTP code ${code} in logs`).toBe(false);
  }
});
