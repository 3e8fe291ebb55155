import { afterAll, describe, expect, it } from 'vitest';
import { type FailedAttempt, UseCaseError } from '../../src/application/errors.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt } from '../support/testService.ts';
import { META, serviceOver } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-failed-attempt');
afterAll(() => dirs.removeAll());

/** The failed attempt a refused promise carries, or the error's code when it carries none. */
const failure = (promise: Promise<unknown>): Promise<FailedAttempt | string> =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof UseCaseError ? (error.failedAttempt ?? error.code) : 'unexpected'),
  );

describe('a wrong code says what it did to its factor lockout', () => {
  it('counts down to the lock of the factor it presented, then names the lock it started', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, enable, clock } = serviceOver(store, createInMemorySnapshotStore());
    const { secret } = await enable('ada');
    const wrong = () => (codeAt(secret, clock.now()) === '000000' ? '111111' : '000000');

    const left: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const attempt = await failure(service.verify('ada', { code: wrong() }, META));
      expect(attempt).toMatchObject({
        factor: 'app',
        failuresInARow: i,
        lockIsPermanent: false,
        lockedUntil: null,
      });
      left.push((attempt as FailedAttempt).failuresBeforeLock);
    }
    expect(left).toEqual([4, 3, 2, 1]);
    // A wrong recovery code counts against the recovery codes only.
    expect(await failure(service.verify('ada', { recoveryCode: 'zzzzz-zzzzz' }, META))).toMatchObject({
      factor: 'recovery-codes',
      failuresInARow: 1,
      failuresBeforeLock: 4,
    });
    const fifth = await failure(service.verify('ada', { code: wrong() }, META));
    expect(fifth).toEqual({
      factor: 'app',
      failuresInARow: 5,
      failuresBeforeLock: 0,
      lockIsPermanent: false,
      lockedUntil: new Date(clock.now() + 60_000).toISOString(),
    });
    // Refused while locked: no count, and no failed attempt to speak of.
    expect(await failure(service.verify('ada', { code: wrong() }, META))).toBe('locked');
    clock.advance(61_000);
    expect(await failure(service.verify('ada', { code: wrong() }, META))).toMatchObject({
      failuresInARow: 6,
      failuresBeforeLock: 4,
    });
    // A code from an enrollment (a failed confirmation) counts against the app as well.
    await service.startEnrollment('carl', { accountName: 'carl', proof: null }, META);
    expect(await failure(service.confirmEnrollment('carl', '000000', META))).toMatchObject({
      factor: 'app',
      failuresInARow: 1,
      failuresBeforeLock: 4,
    });
    await service.close();
  });
});
