import { afterAll, beforeAll, describe } from 'vitest';
import { openEsdbKeyStore } from '../../src/keys/esdbKeyStore.ts';
import {
  EVENTSTORE_IMAGE,
  findEventStoreDb,
  startEventStoreDb,
  warnSkipped,
} from '../support/eventStoreDb.ts';
import { describeKeyStoreContract } from './keyStoreContract.ts';

/* The key store contract against EventStoreDB (see test/support/eventStoreDb.ts for where it comes from). */

const source = await findEventStoreDb();
warnSkipped('EventStoreDB key store contract suite', source);

describe.skipIf(source.kind === 'none')(
  `EventStoreDB key store (${source.kind === 'given' ? 'given server' : EVENTSTORE_IMAGE})`,
  () => {
    let server: Awaited<ReturnType<typeof startEventStoreDb>> | undefined;

    // The first run pulls the image, which can take longer than the project's hook timeout.
    beforeAll(async () => {
      server = await startEventStoreDb(source);
    }, 600_000);

    afterAll(async () => {
      await server?.stop();
    });

    describeKeyStoreContract('EventStoreDB', async () => openEsdbKeyStore(server?.connectionString ?? ''));
  },
);
