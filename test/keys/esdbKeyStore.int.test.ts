import { openEsdbKeyStore } from '../../src/keys/esdbKeyStore.ts';
import { describeOnEventStoreDb } from '../support/eventStoreDb.ts';
import { describeKeyStoreContract } from './keyStoreContract.ts';

/* The key store contract against EventStoreDB (see test/support/eventStoreDb.ts for where it comes from). */

await describeOnEventStoreDb(
  'EventStoreDB key store contract suite',
  (where) => `EventStoreDB key store (${where})`,
  (server) => {
    describeKeyStoreContract('EventStoreDB', async () => openEsdbKeyStore(server.connectionString));
  },
);
