import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt } from '../support/testService.ts';
import { META, outcome, serviceOver } from './serviceFixture.ts';

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
