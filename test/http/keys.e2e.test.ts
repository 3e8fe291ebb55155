import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';

const dirs = tempDirs('two-factor-keys');
afterAll(() => dirs.removeAll());

const key = () => randomBytes(32).toString('base64');
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;
const base = (u: string) => `/v1/users/${u}/two-factor`;

async function enable(t: TestService, user: string) {
  const started = await t.call('POST', `${base(user)}/enrollment`, { body: { accountName: user } });
  expect(started.status).toBe(201);
  const confirmed = await t.call('POST', `${base(user)}/enrollment/confirm`, {
    body: { code: codeAt(started.json.secret, t.clock.now()) },
  });
  expect(confirmed.status).toBe(200);
  return started.json.secret as string;
}

describe('a stored secret sealed under a key that is not configured', () => {
  it('refuses to start, naming the key id and nothing of any key', async () => {
    const dataDir = await dirs.make();
    const first = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: K1 } });
    await enable(first, 'ada');
    await first.server.readModels.caughtUp();
    await first.stop();
    const refused = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: K2 } }).catch(
      (error: unknown) => error as Error,
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(/key k1 is missing from SECRET_ENCRYPTION_KEYS/);
    expect((refused as Error).message).not.toContain(K1.slice(3));
  });

  it('finds a key used only by users the read-model sample does not reach', async () => {
    const dataDir = await dirs.make();
    const first = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: K1 } });
    await enable(first, 'zed'); // sealed with k1, last in the users' order
    await first.stop();
    // Rotated: k2 seals from now on; enough new users that the read-model sample sees only them.
    const second = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: `${K2},${K1}` } });
    for (let i = 0; i < 30; i++) await enable(second, `a${String(i).padStart(2, '0')}`);
    await second.server.readModels.caughtUp();
    await second.stop();
    const refused = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: K2 } }).catch(
      (error: unknown) => error as Error,
    );
    expect((refused as Error).message).toMatch(/key k1 is missing/);
  });

  it('answers 503 at sign-in, logs the key id only, and says so in readiness', async () => {
    const dataDir = await dirs.make();
    const first = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: K1 } });
    const secret = await enable(first, 'zed'); // sealed with k1
    await first.stop();

    // As an instance whose start-up sample missed the user would meet it.
    const t = await startTestService({
      dataDir,
      env: { SECRET_ENCRYPTION_KEYS: K2 },
      server: { checkKeysAtStart: false },
    });
    try {
      t.clock.advance(60_000);
      const signIn = await t.call('POST', `${base('zed')}/verify`, {
        body: { code: codeAt(secret, t.clock.now()) },
      });
      expect(signIn.status).toBe(503);
      expect(signIn.json.code).toBe('unavailable');
      expect(signIn.headers.get('retry-after')).not.toBeNull();
      expect(signIn.text).not.toContain('k1');
      const logged = t.logs.join('');
      expect(logged).toContain('"keyId":"k1"');
      expect(logged).not.toContain(K1.slice(3));
      const ready = await t.call('GET', '/health/ready', { key: null });
      expect(ready.status).toBe(200);
      expect(ready.json.detail).toContain('(k1)');
      // Others are not affected.
      expect((await t.call('GET', base('zed'))).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
