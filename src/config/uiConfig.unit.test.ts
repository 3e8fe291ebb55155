import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { proxyTrust } from './trustProxy.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  API_KEYS: 'web:0123456789abcdef0123',
  SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};

describe('web UI configuration', () => {
  it('serves the UI in development and names `admin` the demo administrator', () => {
    expect(loadConfig({})).toMatchObject({ uiEnabled: true, uiAdmins: ['admin'] });
  });

  it('keeps the UI off in production unless UI_ENABLED=true', () => {
    expect(loadConfig(PRODUCTION).uiEnabled).toBe(false);
    expect(loadConfig({ ...PRODUCTION, UI_ENABLED: 'true' }).uiEnabled).toBe(true);
    expect(loadConfig({ UI_ENABLED: 'false' }).uiEnabled).toBe(false);
  });

  it('reads UI_ADMINS as a list of user ids', () => {
    expect(loadConfig({ UI_ADMINS: 'root,ada@example.com' }).uiAdmins).toEqual(['root', 'ada@example.com']);
  });

  it.each([
    ['UI_ENABLED', 'yes'],
    ['UI_ADMINS', 'root,,ada'],
    ['UI_ADMINS', 'not valid!'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('TRUST_PROXY', () => {
  const trust = (value: string) => proxyTrust(loadConfig({ TRUST_PROXY: value }).trustProxy);

  it('believes nobody by default', () => {
    expect(proxyTrust(loadConfig({}).trustProxy)('127.0.0.1', 0)).toBe(false);
  });

  it('believes the peers at the listed addresses and networks, IPv4-mapped ones included', () => {
    const trusted = trust('10.0.0.0/8, 192.0.2.7, loopback');
    expect(trusted('10.1.2.3', 0)).toBe(true);
    expect(trusted('::ffff:192.0.2.7', 0)).toBe(true);
    expect(trusted('::1', 0)).toBe(true);
    expect(trusted('192.0.2.8', 0)).toBe(false);
  });

  it('believes the nearest hops, whoever they are, when given a count', () => {
    const trusted = trust('2');
    expect(trusted('203.0.113.9', 0)).toBe(true);
    expect(trusted('203.0.113.9', 1)).toBe(true);
    expect(trusted('203.0.113.9', 2)).toBe(false);
  });

  it.each(['true', '10.0.0.0/33', 'proxy.internal'])(
    'refuses TRUST_PROXY=%s naming the variable',
    (value) => {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow('TRUST_PROXY');
    },
  );
});
