import { randomBytes } from 'node:crypto';
import { UseCaseError } from '../../src/application/errors.ts';
import { createTwoFactorService } from '../../src/application/twoFactorService.ts';
import { createRecoveryCodeHasher } from '../../src/crypto/recoveryCodeHasher.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { createInMemoryKeyStore } from '../../src/keys/keyStore.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import type { SnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { codeAt, TEST_DIGEST_PARAMETERS, testClock } from '../support/testService.ts';

export const META: CommandMetadata = {
  correlationId: 'test-correlation',
  causationId: 'test-correlation',
  actor: { role: 'web', id: 'tester' },
};

export const TEST_KEYS = [{ id: 'k1', key: randomBytes(32) }];

/** One key store for every service of a test process: instances over one log share their keys. */
export const TEST_KEY_STORE = createInMemoryKeyStore();

/** The real service over a given store, with cheap argon2 and a test clock. */
export function serviceOver(store: EventStore, snapshots: SnapshotStore, clock = testClock()) {
  const hasher = createRecoveryCodeHasher(TEST_DIGEST_PARAMETERS);
  const service = createTwoFactorService({
    store,
    snapshots,
    keys: createUserKeys(TEST_KEY_STORE, TEST_KEYS),
    hasher,
    clock: clock.now,
    issuer: 'Test',
  });
  return {
    service,
    hasher,
    clock,
    async enable(userId: string) {
      const started = await service.startEnrollment(userId, { accountName: userId, proof: null }, META);
      const confirmed = await service.confirmEnrollment(userId, codeAt(started.secret, clock.now()), META);
      clock.advance(30_000);
      return { secret: started.secret, recoveryCodes: confirmed.recoveryCodes };
    },
  };
}

/** Counts what a store reads, to prove how much a load costs without timing it. */
export function countingReads(store: EventStore) {
  let streamEventsRead = 0;
  const counted: EventStore = {
    appendToStream: (...args) => store.appendToStream(...args),
    readStream(streamName, options) {
      const inner = store.readStream(streamName, options);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const event of inner) {
            streamEventsRead++;
            yield event;
          }
        },
      };
    },
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  return { store: counted, read: () => streamEventsRead, reset: () => (streamEventsRead = 0) };
}

/** What a use case answered: 'accepted', or the code of the UseCaseError it was refused with. */
export const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof UseCaseError ? error.code : 'unexpected'),
  );
