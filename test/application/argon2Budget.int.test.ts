import { afterAll, describe, expect, it } from 'vitest';
import { createTwoFactorService } from '../../src/application/twoFactorService.ts';
import { createRecoveryCodeHasher, type RecoveryCodeHasher } from '../../src/crypto/recoveryCodeHasher.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt, TEST_DIGEST_PARAMETERS, testClock } from '../support/testService.ts';
import { META, outcome, serviceOver, TEST_KEY_STORE, TEST_KEYS } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-argon2');
afterAll(() => dirs.removeAll());

describe('argon2 work is spent only where it is used', () => {
  it('hashes ten codes for a right confirmation and none for a wrong one', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, hasher, clock } = serviceOver(store, createInMemorySnapshotStore());
    const started = await service.startEnrollment('ada', { accountName: 'ada', proof: null }, META);
    expect(await outcome(service.confirmEnrollment('ada', '000000', META))).toBe('invalid-code');
    expect(hasher.computations()).toBe(0);
    await service.confirmEnrollment('ada', codeAt(started.secret, clock.now()), META);
    expect(hasher.computations()).toBe(10);
    await store.close();
  });

  it('hashes nothing for a wrong regeneration code or a TOTP code on a locked factor', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, hasher, enable, clock } = serviceOver(store, createInMemorySnapshotStore());
    const { secret, recoveryCodes } = await enable('bob');
    const afterEnable = hasher.computations();
    expect(await outcome(service.regenerateRecoveryCodes('bob', '000000', META))).toBe('invalid-code');
    expect(hasher.computations()).toBe(afterEnable);
    for (let i = 0; i < 4; i++) await outcome(service.verify('bob', { code: '000000' }, META));
    const lockedNow = hasher.computations();
    expect(await outcome(service.regenerateRecoveryCodes('bob', codeAt(secret, clock.now()), META))).toBe(
      'locked',
    );
    expect(hasher.computations()).toBe(lockedNow);
    // A recovery code is still checked while locked, at the price of one hash, and lets the user in.
    expect(await outcome(service.verify('bob', { recoveryCode: recoveryCodes[0] ?? '' }, META))).toBe(
      'accepted',
    );
    expect(hasher.computations()).toBe(lockedNow + 1);
    await store.close();
  });
});

describe('a recovery code is hashed before the user’s lock is taken', () => {
  it('so the user’s TOTP sign-in is decided while a recovery code of theirs waits for argon2', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const clock = testClock();
    const real = createRecoveryCodeHasher(TEST_DIGEST_PARAMETERS);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let waiting = 0;
    // The digest of a presented code waits for the gate, as a check waits for its turn at argon2.
    const held: RecoveryCodeHasher = {
      ...real,
      async digestOf(...args) {
        waiting++;
        await gate;
        return real.digestOf(...args);
      },
    };
    const service = createTwoFactorService({
      store,
      snapshots: createInMemorySnapshotStore(),
      keys: createUserKeys(TEST_KEY_STORE, TEST_KEYS),
      hasher: held,
      clock: clock.now,
      issuer: 'Test',
    });
    const started = await service.startEnrollment('eve', { accountName: 'eve', proof: null }, META);
    await service.confirmEnrollment('eve', codeAt(started.secret, clock.now()), META);
    clock.advance(30_000);

    const recovery = outcome(service.verify('eve', { recoveryCode: 'zzzzz-zzzzz' }, META));
    while (waiting === 0) await new Promise((resolve) => setImmediate(resolve));
    const signIn = outcome(service.verify('eve', { code: codeAt(started.secret, clock.now()) }, META));
    // A bound against a hang, not a measure of speed: held behind the lock, it would never come.
    const first = await Promise.race([
      signIn,
      new Promise<string>((resolve) => setTimeout(() => resolve('still held'), 10_000).unref()),
    ]);
    expect(first).toBe('accepted');
    release();
    expect(await recovery).toBe('invalid-code');
    await service.close();
    await store.close();
  });
});
