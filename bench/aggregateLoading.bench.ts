import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemorySnapshotStore } from '../src/application/snapshotStore.ts';
import { createTwoFactorService } from '../src/application/twoFactorService.ts';
import { createRecoveryCodeHasher } from '../src/crypto/recoveryCodeHasher.ts';
import { createSecretBox } from '../src/crypto/secretBox.ts';
import type { CommandMetadata } from '../src/domain/shared/message.ts';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { openSqliteSnapshotStore } from '../src/snapshots/sqliteSnapshotStore.ts';
import { TEST_KEYS } from '../test/application/serviceFixture.ts';
import { codeAt, TEST_DIGEST_PARAMETERS, testClock } from '../test/support/testService.ts';
import { sideBySide } from './sideBySide.ts';

const HISTORY = 5000;
const LOADS = 200;
const META: CommandMetadata = {
  correlationId: 'bench',
  causationId: 'bench',
  actor: { role: 'web', id: null },
};

/** Builds one user with a long history, then measures status reads by a fresh service. */
export async function aggregateLoadingBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-loading-'));
  const clock = testClock();
  const store = openSqliteEventStore({ dataDir });
  const seedSnapshots = openSqliteSnapshotStore(dataDir);
  const deps = {
    secretBox: createSecretBox(TEST_KEYS),
    hasher: createRecoveryCodeHasher(TEST_DIGEST_PARAMETERS),
    clock: clock.now,
    issuer: 'bench',
  };
  const seed = createTwoFactorService({ ...deps, store, snapshots: seedSnapshots });
  const started = await seed.startEnrollment('busy', { accountName: 'busy', proof: null }, META);
  await seed.confirmEnrollment('busy', codeAt(started.secret, clock.now()), META);
  for (let i = 0; i < HISTORY; i++) {
    clock.advance(30_000);
    await seed.verify('busy', { code: codeAt(started.secret, clock.now()) }, META);
  }
  seedSnapshots.close();

  // Each load is a cold one (no cache), as after a restart or on another instance.
  const loadsPerSecond = async (useSnapshots: boolean) => {
    const snapshots = useSnapshots ? openSqliteSnapshotStore(dataDir) : null;
    const began = performance.now();
    for (let i = 0; i < LOADS; i++) {
      const service = createTwoFactorService({
        ...deps,
        store,
        snapshots: snapshots ?? createInMemorySnapshotStore(),
        repository: { cacheSize: 0, snapshotEvery: Number.MAX_SAFE_INTEGER },
      });
      await service.status('busy');
    }
    snapshots?.close();
    return LOADS / ((performance.now() - began) / 1000);
  };
  try {
    return await sideBySide({
      name: `cold load of a user with ${HISTORY} sign-ins`,
      rounds: 3,
      baselineLabel: 'full fold',
      candidateLabel: 'snapshot + tail',
      baseline: () => loadsPerSecond(false),
      candidate: () => loadsPerSecond(true),
    });
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
