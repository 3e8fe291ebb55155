import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CLIENT_DEFAULT_DEADLINE_MS,
  InvalidConnectionStringError,
  inspectConnectionString,
  redactCredentials,
} from './connectionString.ts';
import { openEsdbEventStore } from './esdbEventStore.ts';

const SECRET = 'hunter2-Secret';

describe('inspectConnectionString', () => {
  it("uses the client's default deadline unless defaultDeadline is given", () => {
    expect(inspectConnectionString('esdb://localhost:2113?tls=false')).toEqual({
      defaultDeadlineMs: CLIENT_DEFAULT_DEADLINE_MS,
    });
    expect(inspectConnectionString('esdb://localhost:2113?tls=false&defaultDeadline=2000')).toEqual({
      defaultDeadlineMs: 2000,
    });
  });

  it('matches option names like the client: ignoring case, dashes and underscores', () => {
    expect(inspectConnectionString('esdb://h?Default_Deadline=1500&TLS=false').defaultDeadlineMs).toBe(1500);
    expect(inspectConnectionString('esdb+discover://h1,h2?default-deadline=900').defaultDeadlineMs).toBe(900);
  });

  it('refuses an unknown option by name, without echoing the string', () => {
    const attempt = () => inspectConnectionString(`esdb://admin:${SECRET}@db:2113?tls=false&tlsVerify=true`);
    expect(attempt).toThrow(InvalidConnectionStringError);
    expect(attempt).toThrow(/unknown option "tlsVerify"/);
    expect(catchMessage(attempt)).not.toContain(SECRET);
  });

  it('refuses tlsVerifyCert=false, which the client ignores after printing the string', () => {
    expect(() => inspectConnectionString(`esdb://admin:${SECRET}@db?tlsVerifyCert=false`)).toThrow(
      /tlsCAFile/,
    );
  });

  it('reads options only after the credentials: a password may hold "?", "&" or "="', () => {
    // The client takes everything between the first ":" and the next "@" as the password.
    for (const password of ['s3cr?et', 'a?tls=false&x=1', 'p?nonsense=1', '?']) {
      const connection = `esdb://admin:${password}@db:2113?tls=false&defaultDeadline=1200`;
      expect(inspectConnectionString(connection).defaultDeadlineMs).toBe(1200);
    }
  });

  it('never quotes any part of a password that holds "?"', () => {
    const attempt = () => inspectConnectionString(`esdb://admin:${SECRET}?leaked@db:2113?bogus=1`);
    expect(attempt).toThrow(/unknown option "bogus"/);
    expect(catchMessage(attempt)).not.toContain('leaked');
    expect(catchMessage(attempt)).not.toContain(SECRET);
  });

  it('refuses throwOnAppendFailure=false, under which a refused append resolves instead of failing', () => {
    for (const spelling of ['throwOnAppendFailure=false', 'throw_on_append_failure=False']) {
      const attempt = () => inspectConnectionString(`esdb://admin:${SECRET}@db?${spelling}`);
      expect(attempt).toThrow(/throwOnAppendFailure/);
      expect(catchMessage(attempt)).not.toContain(SECRET);
    }
    expect(inspectConnectionString('esdb://db?throwOnAppendFailure=true').defaultDeadlineMs).toBe(
      CLIENT_DEFAULT_DEADLINE_MS,
    );
  });

  it('refuses a node preference other than the leader', () => {
    for (const preference of ['follower', 'random', 'readOnlyReplica', 'read_only_replica']) {
      expect(() => inspectConnectionString(`esdb+discover://h1,h2?nodePreference=${preference}`)).toThrow(
        /nodePreference must be leader/,
      );
    }
    expect(() => inspectConnectionString('esdb+discover://h1,h2?nodePreference=Leader')).not.toThrow();
  });

  it('refuses turning keepalive off, the only way a silently dead subscription is noticed', () => {
    for (const option of ['keepAliveInterval=-1', 'keepAliveTimeout=-1', 'keepAliveInterval=0']) {
      expect(() => inspectConnectionString(`esdb://db?${option}`)).toThrow(/keepalive cannot be turned off/);
    }
    expect(() =>
      inspectConnectionString('esdb://db?keepAliveInterval=20000&keepAliveTimeout=5000'),
    ).not.toThrow();
  });

  it('refuses a bad defaultDeadline and a foreign scheme', () => {
    expect(() => inspectConnectionString('esdb://h?defaultDeadline=soon')).toThrow(/defaultDeadline/);
    expect(() => inspectConnectionString('esdb://h?defaultDeadline=0')).toThrow(/defaultDeadline/);
    expect(() => inspectConnectionString(`https://admin:${SECRET}@h`)).toThrow(/must start with esdb:\/\//);
  });
});

describe('redactCredentials', () => {
  it('hides a password that holds "?", "/" or "#", as the client reads it', () => {
    expect(redactCredentials(`esdb://admin:${SECRET}?x/y#z@a:2113?tls=false`)).toBe(
      'esdb://***@a:2113?tls=false',
    );
  });

  it('hides user and password of every URL in a text', () => {
    expect(redactCredentials(`esdb://admin:${SECRET}@a:2113,b:2113?tls=true`)).toBe(
      'esdb://***@a:2113,b:2113?tls=true',
    );
    expect(redactCredentials('esdb://a:2113?tls=false')).toBe('esdb://a:2113?tls=false');
  });
});

describe('openEsdbEventStore with a malformed connection string', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('neither prints nor throws the credentials', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});

    for (const malformed of [
      `esdb://admin:${SECRET}@db:notaport?tls=false`,
      `esdb://admin:${SECRET}@db:2113?tls=maybe`,
      `esdb://admin:${SECRET}@db:2113?nonsense=1`,
      `esdb://admin:${SECRET}?more@db:2113?nonsense=1`,
    ]) {
      let thrown: unknown;
      try {
        openEsdbEventStore(malformed);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidConnectionStringError);
      expect(JSON.stringify(thrown, Object.getOwnPropertyNames(thrown))).not.toContain(SECRET);
      expect((thrown as Error).cause).toBeUndefined();
    }
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('opens (lazily, without connecting) for a valid string', async () => {
    const store = openEsdbEventStore('esdb://localhost:2113?tls=false');
    await store.close();
  });
});

function catchMessage(attempt: () => unknown): string {
  try {
    attempt();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}
