/**
 * Checks an `esdb://` connection string before `@eventstore/db-client` sees it.
 *
 * Why: the client `console.warn`s the WHOLE connection string, password included, when it
 * meets an option it does not know or `tlsVerifyCert=false` (parseConnectionString.js in
 * @eventstore/db-client 6.2.1), and its ParseError carries the string too. A typo in an
 * operator's environment must not print a secret into the logs, so those cases are refused
 * here with a message that names the option but never echoes the string.
 *
 * It also refuses the options that would break what the adapter relies on: a lost append
 * answered as a success (`throwOnAppendFailure=false`), reads from a node other than the
 * leader (`nodePreference`), and a dead connection that is never noticed (keepalive `-1`).
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

/**
 * The `user:password@` part the way the client reads it (parseCredentials): everything up to
 * the first `:`, then everything up to the next `@`. A password may hold `?`, `/` or `#`.
 */
const CREDENTIALS = /^[^:]+:[^@]+@/;

/** Replaces the `user:password@` part of any esdb URL in a text, so it can be shown or logged. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^:@\s]+:[^@\s]+@/gi, '$1***@');
}

/** The `?key=value&…` part: only after the credentials and hosts, never inside a password. */
function queryOf(afterScheme: string): string {
  const credentials = CREDENTIALS.exec(afterScheme);
  const rest = credentials === null ? afterScheme : afterScheme.slice(credentials[0].length);
  const queryStart = rest.indexOf('?');
  return queryStart === -1 ? '' : rest.slice(queryStart + 1);
}

const invalid = (message: string) =>
  new InvalidConnectionStringError(`EVENTSTORE_CONNECTION_STRING: ${message}`);

export function inspectConnectionString(connectionString: string): ConnectionSettings {
  const trimmed = connectionString.trim();
  const scheme = /^esdb(\+discover)?:\/\//i.exec(trimmed);
  if (scheme === null) {
    throw new InvalidConnectionStringError(
      'EVENTSTORE_CONNECTION_STRING must start with esdb:// or esdb+discover://',
    );
  }
  let defaultDeadlineMs = CLIENT_DEFAULT_DEADLINE_MS;
  for (const pair of queryOf(trimmed.slice(scheme[0].length)).split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const rawKey = separator === -1 ? pair : pair.slice(0, separator);
    const value = separator === -1 ? '' : pair.slice(separator + 1).trim();
    const key = KNOWN_BY_FLAT_NAME.get(flat(rawKey));
    if (key === undefined) {
      // The name is not secret (it is the left side of `key=value`); the value may be.
      throw invalid(
        `unknown option "${redactCredentials(rawKey)}"; known options: ${KNOWN_OPTIONS.join(', ')}`,
      );
    }
    switch (key) {
      case 'tlsVerifyCert':
        if (value === 'false') {
          throw invalid(
            'tlsVerifyCert=false is not supported by @eventstore/db-client (it would be ignored); ' +
              'trust the server certificate with tlsCAFile=<path> instead',
          );
        }
        break;
      case 'throwOnAppendFailure':
        // With false the client answers a wrong-expected-version append as a "result" with
        // success: false and no position, instead of an error.
        if (flat(value) !== 'true') {
          throw invalid('throwOnAppendFailure must be left at true: a refused append must fail, not resolve');
        }
        break;
      case 'nodePreference':
        // A read must see every append acknowledged before it (single use of codes, and
        // reloading after a conflict), which only the leader guarantees.
        if (flat(value) !== 'leader') {
          throw invalid(
            'nodePreference must be leader: commands read their streams from the node they write to',
          );
        }
        break;
      case 'keepAliveInterval':
      case 'keepAliveTimeout': {
        // gRPC keepalive is how a subscription notices a connection that died silently.
        const parsed = Number.parseInt(value, 10);
        if (!Number.isSafeInteger(parsed) || parsed <= 0) {
          throw invalid(`${key} must be a positive number of milliseconds (keepalive cannot be turned off)`);
        }
        break;
      }
      case 'defaultDeadline': {
        const parsed = Number.parseInt(value, 10);
        if (!Number.isSafeInteger(parsed) || parsed <= 0) {
          throw invalid('defaultDeadline must be a positive number of milliseconds');
        }
        defaultDeadlineMs = parsed;
        break;
      }
    }
  }
  return { defaultDeadlineMs };
}
