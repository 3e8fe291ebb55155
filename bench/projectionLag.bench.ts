import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModels } from '../src/projections/readModels.ts';

const COMMANDS = 200;

/**
 * Time from an acknowledged append to its audit row, for appends made by the service's own
 * process (woken at commit) and by another process on the same file (found by the poll).
 */
async function lagMs(sameProcess: boolean): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-lag-'));
  const projected = openSqliteEventStore({ dataDir });
  const writer: EventStore = sameProcess ? projected : openSqliteEventStore({ dataDir });
  const readModels = openReadModels({ dataDir, store: projected });
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
        const [audit] = (await readModels.status()).filter((s) => s.name === 'audit');
        if (audit && BigInt(audit.position) >= position) break;
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
      `projection lag, ${COMMANDS} appends by ${sameProcess ? 'the service itself' : 'another process'}: ` +
        `median ${percentile(lags, 0.5).toFixed(1)} ms, p99 ${percentile(lags, 0.99).toFixed(1)} ms\n`,
    );
  }
}
