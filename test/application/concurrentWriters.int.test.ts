import { afterAll, beforeAll, describe } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { findEventStoreDb, startEventStoreDb, warnSkipped } from '../support/eventStoreDb.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { describeSingleUseUnderConcurrency } from './singleUse.ts';

const dirs = tempDirs('two-factor-writers');
afterAll(() => dirs.removeAll());

describe('SQLite', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await dirs.make();
  });
  describeSingleUseUnderConcurrency('SQLite, one file', async () => openSqliteEventStore({ dataDir }));
});

const source = await findEventStoreDb();
warnSkipped('EventStoreDB single-use concurrency test', source);

describe.skipIf(source.kind === 'none')('EventStoreDB', () => {
  let server: Awaited<ReturnType<typeof startEventStoreDb>> | undefined;
  beforeAll(async () => {
    server = await startEventStoreDb(source);
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
  });
  describeSingleUseUnderConcurrency('EventStoreDB', async () =>
    openEsdbEventStore(server?.connectionString ?? ''),
  );
});
