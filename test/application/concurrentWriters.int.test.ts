import { afterAll, beforeAll, describe } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { describeOnEventStoreDb } from '../support/eventStoreDb.ts';
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

await describeOnEventStoreDb('EventStoreDB single-use concurrency test', 'EventStoreDB', (server) => {
  describeSingleUseUnderConcurrency('EventStoreDB', async () => openEsdbEventStore(server.connectionString));
});
