import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { describeOnEventStoreDb } from '../support/eventStoreDb.ts';
import { describeEventStoreContract } from './contract.ts';

/* The shared contract suite against EventStoreDB (see test/support/eventStoreDb.ts for where it comes from). */

await describeOnEventStoreDb(
  'EventStoreDB contract suite',
  (where) => `EventStoreDB (${where})`,
  (server) => {
    describeEventStoreContract('EventStoreDB', async () => openEsdbEventStore(server.connectionString));
  },
);
