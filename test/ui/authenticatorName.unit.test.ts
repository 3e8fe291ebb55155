import { describe, expect, it } from 'vitest';
import { ApiError } from '../../web/api.ts';
import { authenticatorNameError, refusesName } from '../../web/authenticatorName.ts';
import {
  AUTHENTICATOR_NAME_TAKEN,
  AUTHENTICATORS_FULL,
  authenticatorDates,
  messageFor,
} from '../../web/messages.ts';

describe('the name the page checks before asking the service', () => {
  it('takes 1 to 64 characters, counted as a person counts them, with spaces at either end left off', () => {
    expect(authenticatorNameError('Backup phone', [])).toBeNull();
    expect(authenticatorNameError('  Backup phone  ', ['Backup'])).toBeNull();
    expect(authenticatorNameError('x'.repeat(64), [])).toBeNull();
    // 64 emoji are 128 UTF-16 units, and still 64 characters.
    expect(authenticatorNameError('📱'.repeat(64), [])).toBeNull();
    expect(authenticatorNameError('x'.repeat(65), [])).toBe('Use at most 64 characters.');
    expect(authenticatorNameError('   ', [])).toBe(
      'Enter a name for this authenticator app, e.g. Backup phone.',
    );
  });

  it('refuses a name another of the user’s apps has, whatever its case', () => {
    expect(authenticatorNameError('backup PHONE', ['Authenticator app', 'Backup phone'])).toBe(
      AUTHENTICATOR_NAME_TAKEN,
    );
    expect(authenticatorNameError('Backup phone 2', ['Backup phone'])).toBeNull();
  });

  it('refuses control characters and text-direction marks, which could make a name read as another', () => {
    expect(authenticatorNameError('Phone\u202Eenohp', [])).toMatch(/^Use letters, digits/);
    expect(authenticatorNameError('Phone\nTwo', [])).toMatch(/^Use letters, digits/);
  });

  it('tells a refused name from a refused code in the service’s answer', () => {
    expect(refusesName(new ApiError('authenticator-name-taken', 409, 'taken', null))).toBe(true);
    expect(refusesName(new ApiError('invalid-request', 400, 'body.name: must not be empty', null))).toBe(
      true,
    );
    expect(refusesName(new ApiError('invalid-request', 400, 'body.code: must be six digits', null))).toBe(
      false,
    );
    expect(refusesName(new ApiError('invalid-code', 422, 'body.name', null))).toBe(false);
  });
});

describe('what the page says about authenticator apps', () => {
  it('gives when an app was added, and when it was last used or that it never was', () => {
    const format = (iso: string) => iso.slice(0, 10);
    expect(authenticatorDates({ addedAt: '2026-01-15T09:00:00Z', lastUsedAt: null }, format)).toBe(
      'Added 2026-01-15 · Never used',
    );
    expect(
      authenticatorDates({ addedAt: '2026-01-15T09:00:00Z', lastUsedAt: '2026-02-01T10:00:00Z' }, format),
    ).toBe('Added 2026-01-15 · Last used 2026-02-01');
  });

  it('words the service’s new refusals', () => {
    const problem = (code: string, status: number) => new ApiError(code, status, 'x', null);
    expect(messageFor(problem('authenticator-name-taken', 409))).toBe(AUTHENTICATOR_NAME_TAKEN);
    expect(messageFor(problem('too-many-authenticators', 409))).toBe(AUTHENTICATORS_FULL);
    expect(AUTHENTICATORS_FULL).toBe(
      'You have 5 authenticator apps, the most an account can have. Remove one to add another.',
    );
    expect(messageFor(problem('authenticator-not-found', 404))).toBe(
      'That authenticator app is no longer on your account: it may have been removed in another window.',
    );
  });
});
