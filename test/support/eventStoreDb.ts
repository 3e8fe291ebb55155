import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe } from 'vitest';

/*
 * Where an EventStoreDB for the tests comes from:
 * 1. EVENTSTORE_CONNECTION_STRING, if set (a server you run; tests only add streams with
 *    random names, so a shared server is fine);
 * 2. otherwise a throwaway container, if a container runtime answers (testcontainers);
 * 3. otherwise none, with the reason, so suites skip saying why — never silently, never a pass.
 */

/** The same image as docker-compose.yml (checked by test/eventStore/compose.int.test.ts). */
export const EVENTSTORE_IMAGE = 'kurrentplatform/kurrentdb:25.0';
const HTTP_PORT = 2113;

export type EventStoreDbSource =
  | { readonly kind: 'given'; readonly connectionString: string }
  | { readonly kind: 'container' }
  | { readonly kind: 'none'; readonly reason: string };

export async function findEventStoreDb(): Promise<EventStoreDbSource> {
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

/** The one line a skipped EventStoreDB suite prints. */
export function warnSkipped(suite: string, source: EventStoreDbSource): void {
  if (source.kind === 'none') {
    console.warn(
      `${suite} skipped: no EVENTSTORE_CONNECTION_STRING and no container runtime (${source.reason})`,
    );
  }
}

/** A connection string for the source, starting a container when that is the source. */
export async function startEventStoreDb(
  source: EventStoreDbSource,
): Promise<{ readonly connectionString: string; stop(): Promise<void> }> {
  if (source.kind === 'given') return { connectionString: source.connectionString, stop: async () => {} };
  if (source.kind === 'none') throw new Error(`no EventStoreDB: ${source.reason}`);
  const container: StartedTestContainer = await new GenericContainer(EVENTSTORE_IMAGE)
    .withEnvironment({
      KURRENTDB_INSECURE: 'true',
      KURRENTDB_RUN_PROJECTIONS: 'All',
      KURRENTDB_START_STANDARD_PROJECTIONS: 'true',
      KURRENTDB_MEM_DB: 'true',
    })
    .withExposedPorts(HTTP_PORT)
    // /health/live (what the image's own HEALTHCHECK probes; 204 once HTTP serves, and
    // Wait.forHttp takes any 2xx) can answer before the node has won its election and
    // accepts writes; the log line marks that moment (VNodeState → Leader).
    .withWaitStrategy(
      Wait.forAll([Wait.forHttp('/health/live', HTTP_PORT), Wait.forLogMessage(/IS LEADER\.\.\. SPARTA!/)]),
    )
    .withStartupTimeout(120_000)
    .start();
  return {
    connectionString: `esdb://${container.getHost()}:${container.getMappedPort(HTTP_PORT)}?tls=false`,
    stop: async () => {
      await container.stop();
    },
  };
}

/** The server a suite of describeOnEventStoreDb runs on; read it in hooks and tests, once it has started. */
export interface EventStoreDbServer {
  readonly connectionString: string;
}

/**
 * A suite on EventStoreDB, as every such suite sets itself up: find the server (or a container),
 * print the one skip line when there is none, start it before the suite and stop it after
 * (the body's own afterAll hooks run first). `title` may name where the server comes from.
 */
export async function describeOnEventStoreDb(
  skipLine: string,
  title: string | ((where: string) => string),
  body: (server: EventStoreDbServer) => void,
): Promise<void> {
  const source = await findEventStoreDb();
  warnSkipped(skipLine, source);
  const where = source.kind === 'given' ? 'given server' : EVENTSTORE_IMAGE;
  describe.skipIf(source.kind === 'none')(typeof title === 'string' ? title : title(where), () => {
    let started: Awaited<ReturnType<typeof startEventStoreDb>> | undefined;
    // The first run pulls the image, which can take longer than the projects' hook timeouts.
    beforeAll(async () => {
      started = await startEventStoreDb(source);
    }, 600_000);
    afterAll(async () => {
      await started?.stop();
    });
    body({
      get connectionString() {
        if (started === undefined)
          throw new Error('the EventStoreDB server has not started (read it in a hook or test)');
        return started.connectionString;
      },
    });
  });
}
