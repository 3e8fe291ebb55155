import { EventStoreDBClient } from '@eventstore/db-client';
import {
  type ConnectionSettings,
  InvalidConnectionStringError,
  inspectConnectionString,
  redactCredentials,
} from './connectionString.ts';

/**
 * A client for `EVENTSTORE_CONNECTION_STRING`, checked first (`inspectConnectionString`) so
 * that no message ever carries the string. The event store and the key store each open
 * their own.
 */
export function connectEsdb(connectionString: string): {
  client: EventStoreDBClient;
  settings: ConnectionSettings;
} {
  const settings = inspectConnectionString(connectionString);
  try {
    return { client: EventStoreDBClient.connectionString(connectionString), settings };
  } catch (error) {
    throw new InvalidConnectionStringError(
      `EVENTSTORE_CONNECTION_STRING is not valid: ${describeParseError(error)}`,
    );
  }
}

/**
 * The client's ParseError keeps the whole string (password included) in a property and
 * quotes a slice of it in its message, so neither is passed on: only what it expected where.
 */
export function describeParseError(error: unknown): string {
  const { expected, location } = (error ?? {}) as { expected?: unknown; location?: unknown };
  if (typeof expected === 'string' && Array.isArray(location) && typeof location[0] === 'number') {
    return `expected ${expected} at character ${location[0]}`;
  }
  return error instanceof Error ? redactCredentials(error.message) : 'unparsable';
}
