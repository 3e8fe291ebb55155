import { describe, expect, it } from 'vitest';
import { UseCaseError } from '../../src/application/errors.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { META, serviceOver } from './serviceFixture.ts';

const ATTEMPTS = 50;

/**
 * Fifty simultaneous uses of one recovery code, split between two service instances over
 * two connections to one store (two processes' worth: no shared in-process lock): exactly
 * one is accepted. Only the store's optimistic concurrency can make that so.
 */
export function describeSingleUseUnderConcurrency(name: string, openStore: () => Promise<EventStore>) {
  describe(`single use under concurrency (${name})`, () => {
    it(`accepts one recovery code once among ${ATTEMPTS} simultaneous uses by two instances`, async () => {
      const storeA = await openStore();
      const storeB = await openStore();
      try {
        const a = serviceOver(storeA, createInMemorySnapshotStore());
        const b = serviceOver(storeB, createInMemorySnapshotStore(), a.clock);
        const user = `single-use-${crypto.randomUUID()}`;
        const { recoveryCodes } = await a.enable(user);
        const code = recoveryCodes[0] ?? '';
        const outcomes = await Promise.all(
          Array.from({ length: ATTEMPTS }, (_, i) =>
            (i % 2 === 0 ? a : b).service.verify(user, { recoveryCode: code }, META).then(
              () => 'accepted',
              (error: unknown) =>
                error instanceof UseCaseError ? error.code : `unexpected: ${String(error)}`,
            ),
          ),
        );
        expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(1);
        expect(outcomes.filter((o) => o.startsWith('unexpected'))).toEqual([]);
        expect((await a.service.status(user)).recoveryCodesRemaining).toBe(9);
      } finally {
        await storeA.close();
        await storeB.close();
      }
    }, 120_000);
  });
}
