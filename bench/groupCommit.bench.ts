import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { sideBySide } from './sideBySide.ts';

const APPENDS = 2000;

/** Concurrent appends to distinct streams, as many users signing in at once. */
async function appendsPerSecond(maxBatchSize: number): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-group-commit-'));
  const store = openSqliteEventStore({ dataDir, maxBatchSize });
  try {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: APPENDS }, (_, i) =>
        store.appendToStream(
          `bench-${i}`,
          [
            {
              id: randomUUID(),
              type: 'SignInVerified',
              data: { userId: `u${i}`, method: 'totp' },
              metadata: {},
            },
          ],
          { expectedRevision: 'no-stream' },
        ),
      ),
    );
    return APPENDS / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const groupCommitBench = () =>
  sideBySide({
    name: `group commit, ${APPENDS} concurrent appends (synchronous=FULL)`,
    rounds: 5,
    baselineLabel: 'one fsync per append',
    candidateLabel: 'group commit',
    baseline: () => appendsPerSecond(1),
    candidate: () => appendsPerSecond(1000),
  });
