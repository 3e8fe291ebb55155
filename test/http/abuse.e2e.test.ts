import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.ts';
import {
  codeAt,
  KEYS,
  startTestService,
  TEST_DIGEST_PARAMETERS,
  type TestService,
} from '../support/testService.ts';
import { enableTwoFactor, STEP, twoFactorPath } from '../support/twoFactorFlows.ts';

let t: TestService;
let n = 0;
const base = twoFactorPath;
const fresh = (prefix: string) => `${prefix}-${++n}`;

beforeAll(async () => {
  t = await startTestService({ env: { THROTTLE_FAILURES_PER_MINUTE: '20', REQUEST_TIMEOUT_MS: '1000' } });
});
afterAll(async () => {
  await t?.stop();
});

const enable = (user: string) => enableTwoFactor(t, user);

/** One after the other: each enrollment moves the shared test clock on by a step. */
async function enableMany(prefix: string, count: number) {
  const users: { user: string; secret: string; recoveryCodes: string[] }[] = [];
  for (let i = 0; i < count; i++) {
    const user = fresh(prefix);
    users.push({ user, ...(await enable(user)) });
  }
  return users;
}

/** A six-digit code that is none of the three the window accepts now. */
function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((s) => codeAt(secret, t.clock.now() + s * STEP)));
  for (let i = 0; ; i++) {
    const candidate = String(i).padStart(6, '0');
    if (!valid.has(candidate)) return candidate;
  }
}

describe('no ceiling on the web tier', () => {
  it('answers another user after a three-second flood of verifications on random users', async () => {
    const deadline = Date.now() + 3_000;
    const statuses = new Map<number, number>();
    for (let sent = 0; sent < 3_000 && Date.now() < deadline; sent += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () =>
          t.call('POST', `${base(fresh('flood'))}/verify`, { body: { code: '123456' } }),
        ),
      );
      for (const r of batch) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect([...statuses.keys()]).toEqual([409]); // not-enabled, every one of them: nothing throttled
    const status = await t.call('GET', base(fresh('bystander')));
    expect(status.status).toBe(200);
  });
});

describe('per end-user address', () => {
  const attacker = { 'x-end-user-ip': '198.51.100.7' };

  it('throttles an address after 20 failures across users, while another address signs in', async () => {
    const users = await enableMany('sprayed', 5);
    // Four failures on each of five users: no user reaches its lockout, the address does.
    for (const { user, secret } of users) {
      for (let k = 0; k < 4; k++) {
        const r = await t.call('POST', `${base(user)}/verify`, {
          body: { code: wrongCode(secret) },
          headers: attacker,
        });
        expect(r.status).toBe(422);
      }
    }
    const [first, second] = users as [(typeof users)[0], (typeof users)[0]];
    const throttled = await t.call('POST', `${base(first.user)}/verify`, {
      body: { code: codeAt(first.secret, t.clock.now()) },
      headers: attacker,
    });
    expect(throttled.status).toBe(429);
    expect(throttled.json.code).toBe('rate-limited');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same /64 is the same subscriber; another address is not affected at all.
    const neighbour = await t.call('POST', `${base(second.user)}/verify`, {
      body: { code: codeAt(second.secret, t.clock.now()) },
      headers: { 'x-end-user-ip': '203.0.113.20' },
    });
    expect(neighbour.status).toBe(200);
    // The refused attempt was never checked: the code is still good from a fresh address.
    const signIn = await t.call('POST', `${base(first.user)}/verify`, {
      body: { code: codeAt(first.secret, t.clock.now()) },
      headers: { 'x-end-user-ip': '2001:db8::1' },
    });
    expect(signIn.status).toBe(200);
    // A window later the address may try again.
    t.clock.advance(60_000);
    const later = await t.call('POST', `${base(second.user)}/verify`, {
      body: { code: wrongCode(second.secret) },
      headers: attacker,
    });
    expect(later.status).toBe(422);
  });

  it('bounds a burst sent at once as tightly as one sent in sequence', async () => {
    const users = await enableMany('burst', 4);
    const answers = await Promise.all(
      Array.from({ length: 80 }, (_, i) => {
        const { user, secret } = users[i % users.length]!;
        return t.call('POST', `${base(user)}/verify`, {
          body: { code: wrongCode(secret) },
          headers: { 'x-end-user-ip': '198.51.100.80' },
        });
      }),
    );
    const checked = answers.filter((a) => a.status === 422 || (a.status === 429 && a.json.code === 'locked'));
    const throttled = answers.filter((a) => a.status === 429 && a.json.code === 'rate-limited');
    expect(checked.length).toBeLessThanOrEqual(20);
    expect(checked.length + throttled.length).toBe(80);
    t.clock.advance(60_000);
  });

  it('buckets IPv6 by /64, so rotating through the addresses of one subscriber buys nothing', async () => {
    const users = await enableMany('v6', 5);
    let host = 0;
    for (const { user, secret } of users) {
      for (let k = 0; k < 4; k++) {
        const r = await t.call('POST', `${base(user)}/verify`, {
          body: { code: wrongCode(secret) },
          headers: { 'x-end-user-ip': `2001:db8:aa:bb::${(++host).toString(16)}` },
        });
        expect(r.status).toBe(422);
      }
    }
    const [first] = users as [(typeof users)[0]];
    const sameSubscriber = await t.call('POST', `${base(first.user)}/verify`, {
      body: { code: codeAt(first.secret, t.clock.now()) },
      headers: { 'x-end-user-ip': '2001:db8:aa:bb:ffff:1:2:3' },
    });
    expect(sameSubscriber.status).toBe(429);
    const otherSubscriber = await t.call('POST', `${base(first.user)}/verify`, {
      body: { code: codeAt(first.secret, t.clock.now()) },
      headers: { 'x-end-user-ip': '2001:db8:aa:bc::1' },
    });
    expect(otherSubscriber.status).toBe(200);
    t.clock.advance(60_000);
  });

  it('gives requests without an address one bucket per API key, however the key is written', async () => {
    const users = await enableMany('keyed', 5);
    const spellings = [`Bearer ${KEYS.web}`, `bearer ${KEYS.web}`, `BEARER  ${KEYS.web} `];
    let sent = 0;
    for (const { user, secret } of users) {
      for (let k = 0; k < 4; k++) {
        const authorization = spellings[sent++ % spellings.length]!;
        const r = await t.call('POST', `${base(user)}/verify`, {
          key: null,
          body: { code: wrongCode(secret) },
          headers: { authorization },
        });
        expect(r.status).toBe(422);
      }
    }
    const [first] = users as [(typeof users)[0]];
    for (const authorization of spellings) {
      const r = await t.call('POST', `${base(first.user)}/verify`, {
        key: null,
        body: { code: codeAt(first.secret, t.clock.now()) },
        headers: { authorization },
      });
      expect(r.status).toBe(429);
      expect(r.json.code).toBe('rate-limited');
    }
    // A status read is never throttled.
    expect((await t.call('GET', base(first.user))).status).toBe(200);
    t.clock.advance(60_000);
  });
});

describe('slow clients', () => {
  it('closes a connection whose body never finishes arriving', async () => {
    const { hostname, port } = new URL(t.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.on('data', (chunk) => {
      received += String(chunk);
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST ${base('slow')}/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.web}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co',
    );
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received).not.toContain('HTTP/1.1 200');
    expect(socket.destroyed).toBe(true);
  });
});

describe('argon2 work is bounded', () => {
  it('sheds a flood of wrong recovery codes with 503, while status reads and TOTP codes are answered', async () => {
    // Real argon2 cost (19 MiB, 2 passes), so that checks overlap as they do under attack.
    const s = await startTestService({
      server: {
        // A wait of a few hashes at most, so that the flood overflows it.
        argon2Limits: { maxConcurrent: 1, maxWaitMs: 50 },
        digestParameters: { ...TEST_DIGEST_PARAMETERS, memoryCost: 19_456, timeCost: 2 },
      },
    });
    try {
      // One user's commands queue behind each other: the flood spreads over ten users.
      const users = Array.from({ length: 10 }, (_, i) => `r${i}`);
      const secrets: string[] = [];
      for (const user of [...users, 'signing-in']) {
        const started = await s.call('POST', `${base(user)}/enrollment`, { body: { accountName: user } });
        secrets.push(started.json.secret);
        const confirmed = await s.call('POST', `${base(user)}/enrollment/confirm`, {
          body: { code: codeAt(started.json.secret, s.clock.now()) },
        });
        expect(confirmed.status).toBe(200);
      }
      s.clock.advance(STEP);
      const flood = Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          s.call('POST', `${base(users[i % users.length]!)}/verify`, {
            body: { recoveryCode: `zzzzz-${String(i).padStart(5, '0')}` },
            headers: { 'x-end-user-ip': `192.0.2.${i}` },
          }),
        ),
      );
      const [status, signIn] = await Promise.all([
        s.call('GET', base('bystander')),
        s.call('POST', `${base('signing-in')}/verify`, {
          body: { code: codeAt(secrets[10]!, s.clock.now()) },
        }),
      ]);
      expect(status.status).toBe(200);
      expect(signIn.status).toBe(200);
      const answers = await flood;
      const shed = answers.filter((a) => a.status === 503);
      expect(shed.length).toBeGreaterThan(0);
      for (const a of shed) {
        expect(a.json.code).toBe('unavailable');
        expect(a.headers.get('retry-after')).toBe('1');
      }
      expect(answers.every((a) => [503, 422, 429].includes(a.status))).toBe(true);
    } finally {
      await s.stop();
    }
  });
});

describe('locked out, let back in by a recovery code', () => {
  it('refuses TOTP codes on a locked factor but lets a recovery code in, clearing the lock', async () => {
    const [{ user, secret, recoveryCodes }] = (await enableMany('locked', 1)) as [
      { user: string; secret: string; recoveryCodes: string[] },
    ];
    const from = { 'x-end-user-ip': '203.0.113.77' };
    for (let i = 0; i < 5; i++) {
      await t.call('POST', `${base(user)}/verify`, { body: { code: wrongCode(secret) }, headers: from });
    }
    const refused = await t.call('POST', `${base(user)}/verify`, {
      body: { code: codeAt(secret, t.clock.now()) },
      headers: from,
    });
    expect(refused.status).toBe(429);
    expect(refused.json.code).toBe('locked');
    const rescued = await t.call('POST', `${base(user)}/verify`, {
      body: { recoveryCode: recoveryCodes[0] },
      headers: from,
    });
    expect(rescued.status).toBe(200);
    expect(rescued.json).toMatchObject({
      verified: true,
      method: 'recovery-code',
      recoveryCodesRemaining: 9,
    });
    expect((await t.call('GET', base(user))).json.locked).toBe(false);
    t.clock.advance(60_000);
  });
});

describe('text that enters an event', () => {
  // Header values travel as Latin-1 bytes: C1 controls are what they can carry; fetch refuses
  // to send them, so the request is written as a client that does would write it.
  it('removes control characters from a user agent before it is recorded', async () => {
    const user = fresh('agent');
    const body = JSON.stringify({ accountName: user });
    const { hostname, port } = new URL(t.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let answer = '';
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      Buffer.from(
        `POST ${base(user)}/enrollment HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS.web}\r\n` +
          'X-End-User-Agent: Mozilla\u0085/5.0 \u009b(x)\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        'latin1',
      ),
    );
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 201/);
    // The audit read model follows the log a little behind.
    const record = await eventually(async () => {
      const audit = await t.call('GET', `/v1/audit/events?userId=${user}`, { key: KEYS.audit });
      const [first] = audit.text
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line));
      return first;
    }, `the audit record of ${user}`);
    expect(record.endUserAgent).toBe('Mozilla/5.0 (x)');
  });
});
