import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { proxyTrust } from './trustProxy.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  API_KEYS: 'web:0123456789abcdef0123',
  SECRET_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};
/** The web UI in production as the README deploys it: behind an authenticating proxy. */
const BEHIND_PROXY = {
  ...PRODUCTION,
  UI_ENABLED: 'true',
  UI_TRUSTED_USER_HEADER: 'X-Forwarded-User',
  TRUST_PROXY: '10.0.0.5',
  PUBLIC_URL: 'https://2fa.example.com',
};

describe('web UI configuration', () => {
  it('serves the UI in development with the demo sign-in, and names `admin` the administrator', () => {
    expect(loadConfig({})).toMatchObject({
      uiEnabled: true,
      uiAdmins: ['admin'],
      uiSignIn: { kind: 'demo' },
      publicUrl: null,
      trustProxy: { kind: 'none' },
    });
  });

  it('keeps the UI off in production unless UI_ENABLED=true, and names no administrator there', () => {
    expect(loadConfig(PRODUCTION)).toMatchObject({ uiEnabled: false, uiAdmins: [] });
    expect(loadConfig(BEHIND_PROXY)).toMatchObject({
      uiEnabled: true,
      uiAdmins: [],
      uiSignIn: { kind: 'trusted-header', header: 'x-forwarded-user' },
      publicUrl: 'https://2fa.example.com',
    });
    expect(loadConfig({ ...BEHIND_PROXY, UI_ADMINS: 'root' }).uiAdmins).toEqual(['root']);
    expect(loadConfig({ UI_ENABLED: 'false' }).uiEnabled).toBe(false);
  });

  it('refuses the UI in production without a real first step, naming both ways out', () => {
    const env = { ...PRODUCTION, UI_ENABLED: 'true', PUBLIC_URL: 'https://2fa.example.com' };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(/UI_TRUSTED_USER_HEADER.*UI_DEMO_SIGN_IN=true/);
    expect(loadConfig({ ...env, UI_DEMO_SIGN_IN: 'true' }).uiSignIn).toEqual({ kind: 'demo' });
  });

  it('believes the user header only from proxies named by address, and needs PUBLIC_URL in production', () => {
    const { TRUST_PROXY: _, ...noProxy } = BEHIND_PROXY;
    expect(() => loadConfig(noProxy)).toThrow(
      /UI_TRUSTED_USER_HEADER is believed only from the proxies TRUST_PROXY/,
    );
    expect(() => loadConfig({ ...BEHIND_PROXY, TRUST_PROXY: '1' })).toThrow(
      /a hop count would believe any peer/,
    );
    expect(() => loadConfig({ ...BEHIND_PROXY, UI_DEMO_SIGN_IN: 'true' })).toThrow(/exclude each other/);
    const { PUBLIC_URL: __, ...noUrl } = BEHIND_PROXY;
    expect(() => loadConfig(noUrl)).toThrow(/needs PUBLIC_URL/);
  });

  it('reads UI_ADMINS as a list of user ids', () => {
    expect(loadConfig({ UI_ADMINS: 'root,ada@example.com' }).uiAdmins).toEqual(['root', 'ada@example.com']);
  });

  it.each([
    ['UI_ENABLED', 'yes'],
    ['UI_ADMINS', 'root,,ada'],
    ['UI_ADMINS', 'not valid!'],
    ['UI_TRUSTED_USER_HEADER', 'X Forwarded User'],
    ['UI_TRUSTED_USER_HEADER', 'X-Forwarded-For'],
    ['UI_DEMO_SIGN_IN', 'yes'],
    ['PUBLIC_URL', '2fa.example.com'],
    ['PUBLIC_URL', 'https://2fa.example.com/app'],
    ['PUBLIC_URL', 'ftp://2fa.example.com'],
    ['TRUST_PROXY', 'true'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'proxy.internal'],
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
});
