import { openEsdbEventStore } from './esdb/esdbEventStore.ts';
import type { EventStore } from './eventStore.ts';
import { openSqliteEventStore } from './sqlite/sqliteEventStore.ts';

/**
 * Where the event log lives, as plain data: what another thread of the service needs to open
 * its own connection to the same log (a store object cannot cross a thread).
 */
export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | { readonly kind: 'esdb'; readonly connectionString: string };

export function openStoreAt(location: StoreLocation): EventStore {
  return location.kind === 'esdb'
    ? openEsdbEventStore(location.connectionString)
    : openSqliteEventStore({ dataDir: location.dataDir });
}
