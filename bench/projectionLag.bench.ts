import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModelsThread } from '../src/projections/readModelsThread.ts';

const COMMANDS = 200;

/**
 * Time from an acknowledged append to its audit row, with the read models in their own
 * thread as the service runs them, for appends made in the same process (woken by the
 * writer's announcement of the commit) and by another store on the file (found by the poll).
 */
async function lagMs(sameProcess: boolean): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-lag-'));
  const projected = openSqliteEventStore({ dataDir });
  const writer: EventStore = sameProcess ? projected : openSqliteEventStore({ dataDir });
  const readModels = openReadModelsThread({
    dataDir,
    store: projected,
    location: { kind: 'sqlite', dataDir },
  });
  await readModels.start();
  await readModels.caughtUp();
  const lags: number[] = [];
  try {
    for (let i = 0; i < COMMANDS; i++) {
      const { position } = await writer.appendToStream(
        `two-factor-lag-${i}`,
        [
          {
            id: randomUUID(),
            type: 'LockoutCleared',
            data: { userId: `lag-${i}`, at: new Date().toISOString(), wasLocked: false },
            metadata: {},
          },
        ],
        { expectedRevision: 'no-stream' },
      );
      const acknowledged = performance.now();
      for (;;) {
        const audit = readModels.health().positions.find((p) => p.name === 'audit');
        if (audit && audit.position >= position) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      lags.push(performance.now() - acknowledged);
    }
  } finally {
    await readModels.stop();
    if (!sameProcess) await writer.close();
    await projected.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return lags;
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)] ?? NaN;

export async function projectionLagBench() {
  for (const sameProcess of [true, false]) {
    const lags = await lagMs(sameProcess);
    process.stdout.write(
      `projection lag, ${COMMANDS} appends by ${sameProcess ? 'the service itself' : 'another store on the file'}: ` +
        `median ${percentile(lags, 0.5).toFixed(1)} ms, p99 ${percentile(lags, 0.99).toFixed(1)} ms\n`,
    );
  }
}
