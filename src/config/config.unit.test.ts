import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const KEY = randomBytes(32).toString('base64');
const API_KEYS = 'web:0123456789abcdef0123,admin:fedcba9876543210fedc';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 3000,
      dataDir: './data',
      eventStoreConnectionString: null,
      apiKeys: null,
      encryptionKeys: null,
      issuer: 'Usertour',
      logLevel: 'info',
    });
  });

  it('parses keys, roles and the key ring', () => {
    const config = loadConfig({ API_KEYS, SECRET_ENCRYPTION_KEYS: `new:${KEY},old:${KEY}` });
    expect(config.apiKeys?.map((k) => k.role)).toEqual(['web', 'admin']);
    expect(config.encryptionKeys?.map((k) => k.id)).toEqual(['new', 'old']);
  });

  it.each([['API_KEYS'], ['SECRET_ENCRYPTION_KEYS']])(
    'refuses to start in production without %s, naming it',
    (missing) => {
      const env: Record<string, string> = {
        NODE_ENV: 'production',
        API_KEYS,
        SECRET_ENCRYPTION_KEYS: `k:${KEY}`,
      };
      delete env[missing];
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${missing} is required when NODE_ENV=production`));
    },
  );

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ EVENTSTORE_CONNECTION_STRING: 'http://localhost:2113' }, 'EVENTSTORE_CONNECTION_STRING'],
    [{ API_KEYS: 'root:0123456789abcdef0123' }, 'API_KEYS entry 1'],
    [{ API_KEYS: 'web:short' }, 'API_KEYS entry 1 (web)'],
    [{ SECRET_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, 'SECRET_ENCRYPTION_KEYS key k1 must be 32 bytes'],
    [{ SECRET_ENCRYPTION_KEYS: `k1:${KEY},k1:${KEY}` }, 'key id k1 twice'],
  ])('stops at %j with a message naming %s', (env, named) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(named);
  });

  it('never repeats a key in its messages', () => {
    const secretKey = 'short-but-secret';
    try {
      loadConfig({ API_KEYS: `nobody:${secretKey}0000000` });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secretKey);
    }
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', EVENTSTORE_CONNECTION_STRING: '' })).toMatchObject({
      port: 3000,
      eventStoreConnectionString: null,
    });
  });
});
