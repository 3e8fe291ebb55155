import { describe, expect, it } from 'vitest';
import { authenticatorLines } from './authenticatorsView.ts';
import { CONTROL_CHARACTERS } from './lineOutput.ts';

const phone = {
  id: 'auth_1',
  name: 'Phone',
  addedAt: '2026-01-15T09:00:00.000Z',
  lastUsedAt: '2026-02-01T07:30:00.000Z',
};
const tablet = { id: 'auth_2', name: 'Work tablet', addedAt: '2026-01-20T12:00:00.000Z', lastUsedAt: null };

describe('authenticator listing', () => {
  it('shows each app with its name, id, when it was added and last used, in columns', () => {
    expect(authenticatorLines('ada', [phone, tablet])).toEqual([
      'ada: 2 authenticator apps',
      'NAME         ID      ADDED                     LAST USED',
      'Phone        auth_1  2026-01-15T09:00:00.000Z  2026-02-01T07:30:00.000Z',
      'Work tablet  auth_2  2026-01-20T12:00:00.000Z  never',
    ]);
  });

  it('says so when the user has none', () => {
    expect(authenticatorLines('bob', [])).toEqual([
      'bob: no authenticator app (two-factor authentication is off)',
    ]);
    expect(authenticatorLines('bob', [phone])[0]).toBe('bob: 1 authenticator app');
  });

  it('never lets a name drive the terminal or read as another', () => {
    const lines = authenticatorLines('ada', [{ ...phone, name: 'x\u001b[2Jy\u202Ez' }]);
    const text = lines.join('\n');
    expect(text.replaceAll('\n', '')).not.toMatch(new RegExp(CONTROL_CHARACTERS.source));
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/u);
    expect(lines[2]).toContain('x\\u001b[2Jy\\u202ez');
  });
});
