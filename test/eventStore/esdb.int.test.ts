import { afterAll, beforeAll, describe } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import {
  EVENTSTORE_IMAGE,
  findEventStoreDb,
  startEventStoreDb,
  warnSkipped,
} from '../support/eventStoreDb.ts';
import { describeEventStoreContract } from './contract.ts';

/* The shared contract suite against EventStoreDB (see test/support/eventStoreDb.ts for where it comes from). */

const source = await findEventStoreDb();
warnSkipped('EventStoreDB contract suite', source);

describe.skipIf(source.kind === 'none')(
  `EventStoreDB (${source.kind === 'given' ? 'given server' : EVENTSTORE_IMAGE})`,
  () => {
    let server: Awaited<ReturnType<typeof startEventStoreDb>> | undefined;

    // The first run pulls the image, which can take longer than the project's hook timeout.
    beforeAll(async () => {
      server = await startEventStoreDb(source);
    }, 600_000);

    afterAll(async () => {
      await server?.stop();
    });

    describeEventStoreContract('EventStoreDB', async () =>
      openEsdbEventStore(server?.connectionString ?? ''),
    );
  },
);
