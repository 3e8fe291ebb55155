/**
 * Checks an `esdb://` connection string before `@eventstore/db-client` sees it.
 *
 * Why: the client `console.warn`s the WHOLE connection string, password included, when it
 * meets an option it does not know or `tlsVerifyCert=false` (parseConnectionString.js in
 * @eventstore/db-client 6.2.1), and its ParseError carries the string too. A typo in an
 * operator's environment must not print a secret into the logs, so those cases are refused
 * here with a message that names the option but never echoes the string.
 */

/** The options @eventstore/db-client 6.2.1 understands (its `mapToQueryOption`). */
const KNOWN_OPTIONS = [
  'userCertFile',
  'userKeyFile',
  'maxDiscoverAttempts',
  'connectionName',
  'defaultDeadline',
  'discoveryInterval',
  'gossipTimeout',
  'nodePreference',
  'tls',
  'tlsVerifyCert',
  'tlsCAFile',
  'throwOnAppendFailure',
  'keepAliveInterval',
  'keepAliveTimeout',
] as const;

/** The client matches option names ignoring case, `-` and `_`; so do we. */
const flat = (name: string) => name.trim().toLowerCase().replace(/[_-]/g, '');
const KNOWN_BY_FLAT_NAME = new Map<string, string>(KNOWN_OPTIONS.map((name) => [flat(name), name]));

/** The client's own default for `defaultDeadline` (Client/index.js). */
export const CLIENT_DEFAULT_DEADLINE_MS = 10_000;

export type ConnectionSettings = {
  /** the gRPC deadline the client applies to unary calls; we bound ping and append with it too */
  readonly defaultDeadlineMs: number;
};

/** Thrown for a malformed connection string; its message never contains the string itself. */
export class InvalidConnectionStringError extends Error {
  override readonly name = 'InvalidConnectionStringError';
}

/** Replaces the `user:password@` part of any esdb URL in a text, so it can be shown or logged. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s?#]*@/gi, '$1***@');
}

export function inspectConnectionString(connectionString: string): ConnectionSettings {
  const trimmed = connectionString.trim();
  if (!/^esdb(\+discover)?:\/\//i.test(trimmed)) {
    throw new InvalidConnectionStringError(
      'EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover://',
    );
  }
  let defaultDeadlineMs = CLIENT_DEFAULT_DEADLINE_MS;
  const queryStart = trimmed.indexOf('?');
  const query = queryStart === -1 ? '' : trimmed.slice(queryStart + 1);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const rawKey = separator === -1 ? pair : pair.slice(0, separator);
    const value = separator === -1 ? '' : pair.slice(separator + 1).trim();
    const key = KNOWN_BY_FLAT_NAME.get(flat(rawKey));
    if (key === undefined) {
      // The name is not secret (it is the left side of `key=value`); the value may be.
      throw new InvalidConnectionStringError(
        `EVENTSTORE_CONNECTION_STRING has an unknown option "${redactCredentials(rawKey)}"; ` +
          `known options: ${KNOWN_OPTIONS.join(', ')}`,
      );
    }
    if (key === 'tlsVerifyCert' && value === 'false') {
      throw new InvalidConnectionStringError(
        'EVENTSTORE_CONNECTION_STRING: tlsVerifyCert=false is not supported by @eventstore/db-client ' +
          '(it would be ignored); trust the server certificate with tlsCAFile=<path> instead',
      );
    }
    if (key === 'defaultDeadline') {
      const parsed = Number.parseInt(value, 10);
      if (!Number.isSafeInteger(parsed) || parsed <= 0) {
        throw new InvalidConnectionStringError(
          'EVENTSTORE_CONNECTION_STRING: defaultDeadline must be a positive number of milliseconds',
        );
      }
      defaultDeadlineMs = parsed;
    }
  }
  return { defaultDeadlineMs };
}
