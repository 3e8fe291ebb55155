import type { EventStore } from './eventStore.ts';

/**
 * Where the event log lives, as plain data: what another thread of the service needs to open
 * its own connection to the same log (a store object cannot cross a thread).
 */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | { readonly kind: 'esdb'; readonly connectionString: string };

/**
 * Opens a connection to the log at `location`, loading only the adapter it needs: a thread
 * on the embedded store does not carry EventStoreDB's gRPC client, nor the reverse.
 */
export async function openStoreAt(location: StoreLocation): Promise<EventStore> {
  if (location.kind === 'esdb') {
    const { openEsdbEventStore } = await import('./esdb/esdbEventStore.ts');
    return openEsdbEventStore(location.connectionString);
  }
  const { openSqliteEventStore } = await import('./sqlite/sqliteEventStore.ts');
  return openSqliteEventStore({ dataDir: location.dataDir });
}
