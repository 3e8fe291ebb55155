import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { META, serviceOver } from './serviceFixture.ts';

const READS = 20;
const HOUR = 3_600_000;

const ADMIN: CommandMetadata = {
  correlationId: 'policy-change',
  causationId: 'policy-change',
  actor: { role: 'admin', id: 'root' },
};

/**
 * Twenty simultaneous first status reads of a user without 2FA while it is required, split
 * between two service instances over two connections to one store (no shared in-process
 * lock): one deadline is recorded, and every read answers with it. Only the store's
 * optimistic concurrency can make that so.
 */
function describeFirstSightUnderConcurrency(name: string, openStore: () => Promise<EventStore>): void {
  describe(`the first sight under concurrency (${name})`, () => {
    it(`records one deadline among ${READS} simultaneous first reads by two instances`, async () => {
      const storeA = await openStore();
      const storeB = await openStore();
      try {
        const a = serviceOver(storeA, createInMemorySnapshotStore());
        const b = serviceOver(storeB, createInMemorySnapshotStore(), a.clock);
        const policy = await a.service.changePolicy(true, ADMIN, { gracePeriodHours: 72 });
        expect(policy).toMatchObject({ requireTwoFactor: true, gracePeriodHours: 72 });
        const user = `first-sight-${crypto.randomUUID()}`;

        const statuses = await Promise.all(
          Array.from({ length: READS }, (_, i) => (i % 2 === 0 ? a : b).service.status(user, META)),
        );

        const recorded: string[] = [];
        for await (const event of storeA.readStream(`two-factor-${user}`)) recorded.push(event.type);
        expect(recorded).toEqual(['EnrollmentDeadlineRecorded']);
        const enrollBy = new Set(statuses.map((status) => status.enrollBy));
        expect(enrollBy).toEqual(new Set([new Date(a.clock.now() + 72 * HOUR).toISOString()]));
        expect(statuses.every((status) => status.enrollmentRequired)).toBe(true);
        // Later reads, on either instance, write nothing more.
        await Promise.all([a.service.status(user, META), b.service.status(user, META)]);
        let count = 0;
        for await (const _ of storeB.readStream(`two-factor-${user}`)) count++;
        expect(count).toBe(1);
      } finally {
        await storeA.close();
        await storeB.close();
      }
    }, 120_000);
  });
}

// On SQLite only: the policy stream is instance-wide, and turning it on in a shared
// EventStoreDB server would change what every other run on that server sees.
const dirs = tempDirs('two-factor-first-sight');
afterAll(() => dirs.removeAll());

describe('SQLite', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await dirs.make();
  });
  describeFirstSightUnderConcurrency('SQLite, one file', async () => openSqliteEventStore({ dataDir }));
});
