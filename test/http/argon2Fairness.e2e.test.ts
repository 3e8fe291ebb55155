import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DIGEST_PARAMETERS } from '../../src/crypto/recoveryCodeHasher.ts';
import { argon2Limits } from '../../src/crypto/workLimiter.ts';
import { codeAt, startTestService, type TestService } from '../support/testService.ts';
import { enableTwoFactor, STEP, startEnrollment, twoFactorPath } from '../support/twoFactorFlows.ts';

/*
 * Expensive work shared fairly, at the real argon2id cost (19 MiB, 2 passes) and with the
 * limits the service sizes for a machine of two cores. Outcomes only: who got an answer and
 * which; no time is asserted.
 */

const TWO_CORES = argon2Limits(2);
const base = twoFactorPath;

/** A recovery code of no set, different for each `n`. */
const wrongRecoveryCode = (n: number) => `zzzzz-${String(n % 100_000).padStart(5, '0')}`;

describe('honest bursts are never shed', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      server: { argon2Limits: TWO_CORES, digestParameters: DEFAULT_DIGEST_PARAMETERS },
    });
  });
  afterAll(() => t?.stop());

  it('eight users confirming their enrollment at the same moment all get their ten codes', async () => {
    const users = Array.from({ length: 8 }, (_, n) => `burst-${n}`);
    const secrets: string[] = [];
    for (const user of users) secrets.push(await startEnrollment(t, user));
    const confirmations = await Promise.all(
      users.map((user, n) =>
        t.call('POST', `${base(user)}/enrollment/confirm`, {
          body: { code: codeAt(secrets[n]!, t.clock.now()) },
          headers: { 'x-end-user-ip': `198.51.100.${n + 1}` },
        }),
      ),
    );
    expect(confirmations.map((c) => c.status)).toEqual(users.map(() => 200));
    for (const confirmed of confirmations) expect(confirmed.json.recoveryCodes).toHaveLength(10);
  });
});

describe('a flood of wrong recovery codes', () => {
  let t: TestService;
  const flooded = Array.from({ length: 10 }, (_, n) => `flooded-${n}`);
  let rescue: { secret: string; recoveryCodes: string[] };

  beforeAll(async () => {
    t = await startTestService({
      // The throttle would soon stop the flood at the edge; here the argon2 queue alone must hold.
      env: { THROTTLE_FAILURES_PER_MINUTE: '1000000' },
      server: { argon2Limits: TWO_CORES, digestParameters: DEFAULT_DIGEST_PARAMETERS },
    });
    for (const user of flooded) await enableTwoFactor(t, user);
    rescue = await enableTwoFactor(t, 'rescued');
    t.clock.advance(STEP);
  }, 120_000);
  afterAll(() => t?.stop());

  it('from seven addresses does not keep a right recovery code from an eighth address out', async () => {
    let sent = 0;
    let stop = false;
    const answers: number[] = [];
    /** One flooding address: four requests in flight at all times, until told to stop. */
    const flood = async (address: string) => {
      const lane = async () => {
        while (!stop && sent < 2_000) {
          const n = sent++;
          const answer = await t.call('POST', `${base(flooded[n % flooded.length]!)}/verify`, {
            body: { recoveryCode: wrongRecoveryCode(n) },
            headers: { 'x-end-user-ip': address },
          });
          answers.push(answer.status);
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
    };
    const flooding = Promise.all(Array.from({ length: 7 }, (_, n) => flood(`192.0.2.${n + 1}`)));
    try {
      // The flood has filled the queue once the first of its checks were shed or answered.
      while (answers.length < 7 && sent < 2_000) await new Promise((resolve) => setTimeout(resolve, 20));
      const signIn = await t.call('POST', `${base('rescued')}/verify`, {
        body: { recoveryCode: rescue.recoveryCodes[0] },
        headers: { 'x-end-user-ip': '203.0.113.8' },
      });
      expect(signIn.status).toBe(200);
      expect(signIn.json).toMatchObject({
        verified: true,
        method: 'recovery-code',
        recoveryCodesRemaining: 9,
      });
    } finally {
      stop = true;
      await flooding;
    }
    // The flood was answered (wrong codes, locks, or its share shed), never with an error of ours.
    expect(answers.every((status) => [422, 423, 429, 503].includes(status))).toBe(true);
  }, 120_000);
});

describe('a 503 for an attempt costs the address a failure', () => {
  let t: TestService;
  const targets = Array.from({ length: 6 }, (_, n) => `target-${n}`);

  beforeAll(async () => {
    t = await startTestService({
      env: { THROTTLE_FAILURES_PER_MINUTE: '20' },
      server: { argon2Limits: TWO_CORES, digestParameters: DEFAULT_DIGEST_PARAMETERS },
    });
    for (const user of targets) await enableTwoFactor(t, user);
  }, 120_000);
  afterAll(() => t?.stop());

  it('so a flood from one address gets at most 20 answers that are not “rate-limited”, shed ones included', async () => {
    const statuses = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          t.call('POST', `${base(targets[n % targets.length]!)}/verify`, {
            body: { recoveryCode: wrongRecoveryCode(round * 30 + n) },
            headers: { 'x-end-user-ip': '198.51.100.66' },
          }),
        ),
      );
      for (const answer of answers) {
        const key = `${answer.status} ${answer.json.code}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
    const notThrottled = [...statuses]
      .filter(([key]) => key !== '429 rate-limited')
      .reduce((sum, [, count]) => sum + count, 0);
    expect(notThrottled, JSON.stringify([...statuses])).toBeLessThanOrEqual(20);
    expect(statuses.get('429 rate-limited')).toBe(150 - notThrottled);
  }, 120_000);
});
