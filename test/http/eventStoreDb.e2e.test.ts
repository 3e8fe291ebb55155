import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnEventStoreDb } from '../support/eventStoreDb.ts';
import { codeAt, KEYS, startTestService, type TestService } from '../support/testService.ts';

/*
 * The whole service on EventStoreDB, as users scale it out: two instances (each with its own
 * read models and snapshots) on one server, over real sockets. Runs when
 * EVENTSTORE_CONNECTION_STRING names a server (or a container runtime answers); the server
 * may be shared, so every user id is new.
 */

const ATTEMPTS = 50;
const RACE_STATUSES = new Set([200, 409, 422, 429]);

await describeOnEventStoreDb(
  'EventStoreDB service tests',
  'the service on EventStoreDB, two instances on one server',
  (eventStoreDb) => {
    const instances: TestService[] = [];
    let env: Record<string, string> = {};
    const run = randomUUID().slice(0, 8);
    const user = (name: string) => `${name}-${run}`;

    const start = async () => {
      // A shared server holds other runs' users, sealed with keys this run does not have: the
      // start-up key check would rightly refuse them, so it is left to its own tests.
      const instance = await startTestService({ env, server: { checkKeysAtStart: false } });
      // Every instance's clock shows the same time, as real clocks would.
      instance.clock.set(instances[0]?.clock.now() ?? instance.clock.now());
      instances.push(instance);
      return instance;
    };
    const advanceAll = (ms: number) => {
      for (const instance of instances) instance.clock.advance(ms);
    };

    beforeAll(async () => {
      env = {
        EVENTSTORE_CONNECTION_STRING: eventStoreDb.connectionString,
        // Both instances must open each other's sealed secrets.
        SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      };
      await start();
      await start();
    });

    afterAll(async () => {
      for (const instance of instances) await instance.stop();
    });

    async function enable(on: TestService, userId: string) {
      const started = await on.call('POST', `/v1/users/${userId}/two-factor/enrollment`, {
        body: { accountName: userId },
      });
      expect(started.status).toBe(201);
      const confirmed = await on.call('POST', `/v1/users/${userId}/two-factor/enrollment/confirm`, {
        body: { code: codeAt(started.json.secret, on.clock.now()) },
      });
      expect(confirmed.status).toBe(200);
      advanceAll(30_000);
      return {
        secret: started.json.secret as string,
        recoveryCodes: confirmed.json.recoveryCodes as string[],
      };
    }

    /** Fifty simultaneous requests, split between the instances. */
    async function race(path: string, body: unknown): Promise<number[]> {
      const responses = await Promise.all(
        Array.from({ length: ATTEMPTS }, (_, i) => instances[i % 2]!.call('POST', path, { body })),
      );
      return responses.map((response) => response.status);
    }

    it(`accepts one recovery code exactly once among ${ATTEMPTS} uses split across both instances`, async () => {
      const userId = user('race-recovery');
      const { recoveryCodes } = await enable(instances[0]!, userId);

      const statuses = await race(`/v1/users/${userId}/two-factor/verify`, {
        recoveryCode: recoveryCodes[0],
      });

      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => !RACE_STATUSES.has(status))).toEqual([]);
      const status = await instances[1]!.call('GET', `/v1/users/${userId}/two-factor`);
      expect(status.json.recoveryCodesRemaining).toBe(9);
    });

    it(`accepts one TOTP code exactly once among ${ATTEMPTS} uses split across both instances`, async () => {
      const userId = user('race-totp');
      const { secret } = await enable(instances[1]!, userId);

      const statuses = await race(`/v1/users/${userId}/two-factor/verify`, {
        code: codeAt(secret, instances[0]!.clock.now()),
      });

      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => !RACE_STATUSES.has(status))).toEqual([]);
    });

    /** The admin list's entries for this run's users, once they show `expected` users. */
    async function usersOf(instance: TestService, expected: number) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const response = await instance.call('GET', '/v1/admin/users?limit=500', { key: KEYS.admin });
        expect(response.status).toBe(200);
        const mine = response.json.users.filter((entry: { userId: string }) => entry.userId.endsWith(run));
        if (mine.length >= expected || Date.now() > deadline) return mine;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    /** This run's users, once `userId` reads as enabled (or after 20 s, for the assertion to fail). */
    async function usersOnceEnabled(instance: TestService, userId: string) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const mine = await usersOf(instance, 0);
        const entry = mine.find((candidate: { userId: string }) => candidate.userId === userId);
        if (entry?.status === 'enabled' || Date.now() > deadline) return mine;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    it("converges both instances' read models on the same log", async () => {
      const [a, b] = [await usersOf(instances[0]!, 2), await usersOf(instances[1]!, 2)];

      expect(a).toHaveLength(2);
      expect(b).toEqual(a);
      expect(a.find((entry: { userId: string }) => entry.userId === user('race-recovery'))).toMatchObject({
        status: 'enabled',
        recoveryCodesRemaining: 9,
      });
    });

    it('lets a third instance catch up on the log, then follow it live', async () => {
      const late = await start();

      // Caught up before it answered: the users written through the other two are there.
      expect(await usersOf(late, 2)).toEqual(await usersOf(instances[0]!, 2));

      await enable(instances[0]!, user('live'));
      // Read models follow the log event by event: the new user shows as pending before enabled.
      const followed = await usersOnceEnabled(late, user('live'));
      expect(followed.map((entry: { userId: string }) => entry.userId)).toContain(user('live'));
      expect(followed).toEqual(await usersOnceEnabled(instances[1]!, user('live')));
    });

    it(`adds a second authenticator on one instance that signs in on another, each of its codes accepted once among ${ATTEMPTS}`, async () => {
      const userId = user('two-devices');
      const { secret } = await enable(instances[0]!, userId);
      const base = `/v1/users/${userId}/two-factor/authenticators`;
      const added = await instances[0]!.call('POST', base, {
        body: { name: 'Backup phone', code: codeAt(secret, instances[0]!.clock.now()) },
      });
      expect(added.status).toBe(201);
      const confirmed = await instances[1]!.call('POST', `${base}/${added.json.authenticatorId}/confirm`, {
        body: { code: codeAt(added.json.secret, instances[1]!.clock.now()) },
      });
      expect(confirmed.status).toBe(200);
      advanceAll(30_000);

      const statuses = await race(`/v1/users/${userId}/two-factor/verify`, {
        code: codeAt(added.json.secret, instances[0]!.clock.now()),
      });
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => !RACE_STATUSES.has(status))).toEqual([]);
      // The first device's code of the same step is its own, still unspent.
      const byFirst = await instances[1]!.call('POST', `/v1/users/${userId}/two-factor/verify`, {
        body: { code: codeAt(secret, instances[1]!.clock.now()) },
      });
      expect(byFirst.json).toMatchObject({
        verified: true,
        authenticatorId: expect.stringMatching(/^auth_/),
      });
      expect(byFirst.json.authenticatorId).not.toBe(added.json.authenticatorId);
      const listed = await instances[0]!.call('GET', base);
      expect(listed.json.authenticators.map((a: { name: string }) => a.name)).toEqual([
        'Authenticator app',
        'Backup phone',
      ]);
    });
  },
);
