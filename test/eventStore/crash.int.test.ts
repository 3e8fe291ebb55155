import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { spawnTsx } from '../support/tsxChild.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

import { tempDirs } from '../support/tempDirs.ts';
import { collect, expectStrictlyIncreasing, withTimeout } from './eventStoreTestKit.ts';

type Acknowledged = {
  readonly stream: string;
  readonly appendId: string;
  readonly ids: readonly string[];
  readonly lastRevision: string;
  readonly position: string;
};

const dirs = tempDirs('sqlite-crash');
afterAll(() => dirs.removeAll());

/** Runs the writer until it has acknowledged `killAfter` appends, then SIGKILLs it. */
async function appendThenKill(dataDir: string, killAfter: number): Promise<Acknowledged[]> {
  const writer = spawnTsx(fixture('appendUntilKilled.ts'), [dataDir]);
  const acknowledged: Acknowledged[] = [];
  const reading = (async () => {
    for await (const line of writer.lines) {
      acknowledged.push(JSON.parse(line) as Acknowledged);
      if (acknowledged.length === killAfter) writer.process.kill('SIGKILL');
    }
  })();
  // Lines already in the pipe when the kill lands are acknowledgements too: keep reading to the end.
  await withTimeout(reading, 50_000, () => `${killAfter} acknowledged appends (stderr: ${writer.stderr()})`);
  const exit = await writer.exited;
  // A writer that stopped on its own (an error, or its bounds) would not have tested a crash.
  expect(exit, writer.stderr()).toEqual({ code: null, signal: 'SIGKILL' });
  return acknowledged;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

describe('SQLite event store after the writing process is killed', () => {
  it.each([50, 200, 400])(
    'keeps every acknowledged append whole and the log consistent (kill after %i)',
    async (killAfter) => {
      const dataDir = await dirs.make();

      const acknowledged = await appendThenKill(dataDir, killAfter);

      expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      const store = openSqliteEventStore({ dataDir });
      try {
        const log: RecordedEvent[] = await collect(store.readAll());
        const byId = new Map(log.map((event) => [event.id, event]));

        // Every acknowledged event is there, where the acknowledgement said.
        for (const ack of acknowledged) {
          const stored = ack.ids.map((id) => byId.get(id));
          expect(stored.every((event) => event?.streamName === ack.stream)).toBe(true);
          expect(stored.at(-1)?.revision).toBe(BigInt(ack.lastRevision));
          expect(stored.at(-1)?.position).toBe(BigInt(ack.position));
        }

        // No append is stored in part, acknowledged or not (the kill may land mid-batch).
        for (const [appendId, events] of groupBy(log, (event) => String(event.metadata.appendId))) {
          expect(events.length, `append ${appendId}`).toBe(events[0]!.metadata.size);
          expect(events.map((event) => event.metadata.index)).toEqual(events.map((_, index) => index));
        }

        expectStrictlyIncreasing(log.map((event) => event.position));
        for (const [stream, events] of groupBy(log, (event) => event.streamName)) {
          expect(
            events.map((event) => event.revision),
            stream,
          ).toEqual(events.map((_, index) => BigInt(index)));
        }

        // The file is sound, and the store carries on from where the writer stopped.
        const raw = new Database(store.filePath, { readonly: true });
        try {
          expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        } finally {
          raw.close();
        }
        const lastOfA = log.filter((event) => event.streamName === 'crash-a').at(-1)!;
        await expect(
          store.appendToStream(
            'crash-a',
            [{ id: randomUUID(), type: 'AfterCrash', data: {}, metadata: {} }],
            { expectedRevision: lastOfA.revision },
          ),
        ).resolves.toMatchObject({ nextExpectedRevision: lastOfA.revision + 1n });
      } finally {
        await store.close();
      }
    },
  );
});
