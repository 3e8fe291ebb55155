import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe } from 'vitest';
import { openEsdbEventStore } from '../../src/eventStore/esdb/esdbEventStore.ts';
import { describeEventStoreContract } from './contract.ts';

/*
 * The shared contract suite against EventStoreDB. Where the server comes from:
 * 1. EVENTSTORE_CONNECTION_STRING, if set (a server you run; the suite only adds streams
 *    with random names, so a shared server is fine);
 * 2. otherwise a throwaway container, if a container runtime answers (testcontainers);
 * 3. otherwise the suite is skipped, saying so in one line — never silently, never a pass.
 */

const IMAGE = 'eventstore/eventstore:24.10';
const HTTP_PORT = 2113;

type Server =
  | { readonly kind: 'given'; readonly connectionString: string }
  | { readonly kind: 'container' }
  | { readonly kind: 'none'; readonly reason: string };

async function findServer(): Promise<Server> {
  const given = process.env.EVENTSTORE_CONNECTION_STRING?.trim();
  if (given) return { kind: 'given', connectionString: given };
  try {
    // Throws when no Docker/Podman/… endpoint answers.
    await getContainerRuntimeClient();
    return { kind: 'container' };
  } catch (error) {
    return { kind: 'none', reason: error instanceof Error ? error.message : String(error) };
  }
}

const server = await findServer();
if (server.kind === 'none') {
  console.warn(
    `EventStoreDB contract suite skipped: no EVENTSTORE_CONNECTION_STRING and no container runtime (${server.reason})`,
  );
}

describe.skipIf(server.kind === 'none')(
  `EventStoreDB (${server.kind === 'given' ? 'given server' : IMAGE})`,
  () => {
    let container: StartedTestContainer | undefined;
    let connectionString = server.kind === 'given' ? server.connectionString : '';

    beforeAll(async () => {
      if (server.kind !== 'container') return;
      container = await new GenericContainer(IMAGE)
        .withEnvironment({
          EVENTSTORE_INSECURE: 'true',
          EVENTSTORE_RUN_PROJECTIONS: 'All',
          EVENTSTORE_MEM_DB: 'true',
        })
        .withExposedPorts(HTTP_PORT)
        // /health/live (what the image's own HEALTHCHECK probes; 204 once HTTP serves, and
        // Wait.forHttp takes any 2xx) can answer before the node has won its election and
        // accepts writes; the log line marks that moment (VNodeState → Leader).
        .withWaitStrategy(
          Wait.forAll([
            Wait.forHttp('/health/live', HTTP_PORT),
            Wait.forLogMessage(/IS LEADER\.\.\. SPARTA!/),
          ]),
        )
        .withStartupTimeout(120_000)
        .start();
      connectionString = `esdb://${container.getHost()}:${container.getMappedPort(HTTP_PORT)}?tls=false`;
      // The first run pulls the image, which can take longer than the project's hook timeout.
    }, 600_000);

    afterAll(async () => {
      await container?.stop();
    });

    describeEventStoreContract('EventStoreDB', async () => openEsdbEventStore(connectionString));
  },
);
