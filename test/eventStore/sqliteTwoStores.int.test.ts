import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConcurrencyConflictError } from '../../src/eventStore/eventStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { spawnTsx } from '../support/tsxChild.ts';
import {
  collect,
  markLogPosition,
  newEvent,
  probeSubscription,
  uniqueStream,
  withTimeout,
} from './eventStoreTestKit.ts';
import { sqliteStoresClosedAfterEach } from './sqliteStores.ts';

/* Two SQLite event stores, in one process or two, on one database file. */

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const dirs = tempDirs('sqlite-event-store');
afterAll(() => dirs.removeAll());

const waitLimitMs = 15_000;

describe('SQLite event store', () => {
  const { openStore } = sqliteStoresClosedAfterEach(dirs);

  describe('two stores on one file', () => {
    it('never lets both append the same revision', async () => {
      const dataDir = await dirs.make();
      const [a, b] = [await openStore({ dataDir }), await openStore({ dataDir })];
      const streams = Array.from({ length: 20 }, () => uniqueStream('shared'));

      const outcomes = await Promise.all(
        streams.map((stream) =>
          Promise.allSettled([
            a.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
            b.appendToStream(stream, [newEvent()], { expectedRevision: 'no-stream' }),
          ]),
        ),
      );

      for (const pair of outcomes) {
        expect(pair.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        const loser = pair.find((outcome) => outcome.status === 'rejected');
        expect(loser?.reason).toBeInstanceOf(ConcurrencyConflictError);
      }
      for (const stream of streams) expect(await collect(a.readStream(stream))).toHaveLength(1);
    });

    it("delivers another store's appends to a subscription, through the poll", async () => {
      const dataDir = await dirs.make();
      const [subscriber, writer] = [await openStore({ dataDir }), await openStore({ dataDir })];
      const start = await markLogPosition(subscriber);
      const stream = uniqueStream('cross');
      const subscription = subscriber.subscribeToAll({ after: start });
      const probe = probeSubscription(subscription, (e) => e.streamName === stream, waitLimitMs);

      await writer.appendToStream(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
      await writer.appendToStream(stream, [newEvent()], { expectedRevision: 1n });
      await probe.waitForRelevant(3);
      await subscription.close();

      expect(probe.relevant.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
    });

    it('never lets two processes append the same revision', async () => {
      const dataDir = await dirs.make();
      const [streams, rounds] = [8, 25];
      const racers = [0, 1].map(() =>
        spawnTsx(fixture('raceForRevisions.ts'), [dataDir, String(streams), String(rounds)]),
      );
      const outputs = racers.map((racer) => {
        const lines: string[] = [];
        let markReady = () => {};
        const ready = new Promise<void>((resolve) => {
          markReady = resolve;
        });
        const finished = (async () => {
          for await (const line of racer.lines) {
            if (line === 'ready') markReady();
            else lines.push(line);
          }
        })();
        return { lines, ready, finished };
      });

      await withTimeout(Promise.all(outputs.map((output) => output.ready)), 30_000, 'both racers to start');
      for (const racer of racers) racer.process.stdin.write('go\n');
      await withTimeout(
        Promise.all(outputs.map((output) => output.finished)),
        50_000,
        'both racers to finish',
      );
      const exits = await Promise.all(racers.map((racer) => racer.exited));

      expect(exits, racers.map((racer) => racer.stderr()).join('\n')).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      expect(outputs.every((output) => output.lines.at(-1) === 'done')).toBe(true);
      const wins = outputs.flatMap((output) =>
        output.lines
          .filter((line) => line !== 'done')
          .map((line) => JSON.parse(line) as { stream: string; revision: number; id: string }),
      );
      const store = await openStore({ dataDir });
      for (let index = 0; index < streams; index += 1) {
        const stream = `race-${index}`;
        const stored = await collect(store.readStream(stream));
        const claimed = wins.filter((win) => win.stream === stream).sort((x, y) => x.revision - y.revision);
        // Every revision was won exactly once, and by the event that is stored there.
        expect(claimed.map((win) => win.revision)).toEqual(Array.from({ length: rounds }, (_, r) => r));
        expect(stored.map((e) => e.id)).toEqual(claimed.map((win) => win.id));
      }
    });
  });
});
