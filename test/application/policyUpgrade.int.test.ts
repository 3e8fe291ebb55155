import { afterAll, describe, expect, it } from 'vitest';
import { toStoredEvents } from '../../src/application/storedEvent.ts';
import { GENESIS_HASH } from '../../src/audit/hashChain.ts';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import { verifyChain } from '../../src/audit/verifyChain.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModels } from '../../src/projections/readModels.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { testClock } from '../support/testService.ts';
import { META, serviceOver } from './serviceFixture.ts';

/*
 * A log written before grace periods (TwoFactorRequirementChanged at schema version 1) read
 * and continued by this build: old events read as a grace of 0, new ones are version 2, and
 * the hash chain verifies over both.
 */

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const dirs = tempDirs('policy-upgrade');
afterAll(() => dirs.removeAll());

const ROOT: CommandMetadata = {
  correlationId: 'c-root',
  causationId: 'c-root',
  actor: { role: 'admin', id: 'root' },
};

describe('a policy recorded before grace periods', () => {
  it('reads as a grace of 0 from when it was turned on; changes and deadlines follow as version 2, and the chain verifies', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    try {
      const turnedOnAt = Date.UTC(2025, 5, 1, 8, 0, 0);
      // Exactly what the previous build appended: version 1 data, hashed as stored.
      const { stored } = toStoredEvents('policy-instance', 0n, GENESIS_HASH, [
        {
          type: 'TwoFactorRequirementChanged',
          data: { requireTwoFactor: true, previous: false, at: iso(turnedOnAt) },
          metadata: { ...ROOT, schemaVersion: 1 },
        },
      ]);
      await store.appendToStream('policy-instance', stored, { expectedRevision: 'no-stream' });

      const clock = testClock(turnedOnAt + 24 * HOUR);
      const { service } = serviceOver(store, createInMemorySnapshotStore(), clock);
      expect(await service.policy()).toEqual({
        requireTwoFactor: true,
        gracePeriodHours: 0,
        requiredSince: iso(turnedOnAt),
        updatedAt: iso(turnedOnAt),
        updatedBy: 'root',
      });
      // Grace 0: a user seen now must enroll now.
      const seenAt = clock.now();
      expect(await service.status('veteran', META)).toMatchObject({
        enrollmentRequired: true,
        enrollBy: iso(seenAt),
      });

      clock.advance(HOUR);
      const changed = await service.changePolicy(true, ROOT, { gracePeriodHours: 72 });
      expect(changed).toMatchObject({ gracePeriodHours: 72, requiredSince: iso(turnedOnAt) });
      expect((await service.status('veteran', META)).enrollBy).toBe(iso(seenAt + 72 * HOUR));

      const policyEvents = [];
      for await (const event of store.readStream('policy-instance')) policyEvents.push(event);
      expect(
        policyEvents.map((event) => [
          readMetadata(event.metadata).schemaVersion,
          event.data.gracePeriodHours,
        ]),
      ).toEqual([
        [1, undefined],
        [2, 72],
      ]);
      expect(policyEvents[1]?.data).toMatchObject({ previous: true, previousGracePeriodHours: 0 });

      expect(await verifyChain(store)).toEqual({ ok: true, checked: 3, streams: 2 });

      // The users read model folds both versions into the same policy.
      const readModels = openReadModels({ dataDir, store });
      try {
        await readModels.start();
        await readModels.caughtUp();
        expect(readModels.usersSummary(clock.now())).toMatchObject({
          requireTwoFactor: true,
          gracePeriodHours: 72,
          requiredSince: iso(turnedOnAt),
          seenUsers: 1,
          enrolledUsers: 0,
          pastDeadline: 0,
        });
      } finally {
        await readModels.stop();
      }
    } finally {
      await store.close();
    }
  });
});
