import { afterAll, describe, expect, it } from 'vitest';
import { UseCaseError } from '../../src/application/errors.ts';
import { createInMemorySnapshotStore } from '../../src/application/snapshotStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { tempDirs } from '../eventStore/tempDirs.ts';
import { META, serviceOver } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-writers');
afterAll(() => dirs.removeAll());

describe('two service instances on one store file', () => {
  it('accept a recovery code once among 50 simultaneous uses split between them', async () => {
    const dataDir = await dirs.make();
    const storeA = openSqliteEventStore({ dataDir });
    const storeB = openSqliteEventStore({ dataDir });
    const a = serviceOver(storeA, createInMemorySnapshotStore());
    const b = serviceOver(storeB, createInMemorySnapshotStore(), a.clock);
    const { recoveryCodes } = await a.enable('shared');
    const code = recoveryCodes[0] ?? '';
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 === 0 ? a : b).service.verify('shared', { recoveryCode: code }, META).then(
          () => 'accepted',
          (error: unknown) => (error instanceof UseCaseError ? error.code : 'unexpected'),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'unexpected')).toHaveLength(0);
    expect((await a.service.status('shared')).recoveryCodesRemaining).toBe(9);
    await storeA.close();
    await storeB.close();
  });
});
