import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

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
