import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import { tempDirs } from '../support/tempDirs.ts';

const dirs = tempDirs('key-rotation');
const dir = dirs.makeSync();
afterAll(() => dirs.removeAll());

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };

describe('rotating the instance key', () => {
  it('re-wraps every data key, survives an interruption, and leaves the old key unneeded', async () => {
    const store = openSqliteKeyStore(dir);
    const before = createUserKeys(store, [k1]);
    const users = Array.from({ length: 40 }, (_, i) => `user-${String(i).padStart(2, '0')}`);
    const sealed = new Map<
      string,
      { secret: string; value: Awaited<ReturnType<ReturnType<typeof before.forUser>['seal']>> }
    >();
    for (const user of users) {
      const secret = randomBytes(20).toString('hex');
      sealed.set(user, { secret, value: await before.forUser(user).seal(secret) });
    }

    // k2 first: the rotation is stopped halfway, as by Ctrl-C.
    const rotating = createUserKeys(store, [k2, k1]);
    const stop = new AbortController();
    const first = await rotating.rotate({
      signal: stop.signal,
      onProgress: ({ examined }) => {
        if (examined === 20) stop.abort();
      },
    });
    expect(first).toEqual({ examined: 20, rewrapped: 20, unusable: 0 });
    expect(await rotating.census()).toEqual(
      new Map([
        ['k1', { dataKeys: 20, usable: 20 }],
        ['k2', { dataKeys: 20, usable: 20 }],
      ]),
    );
    // Halfway, k1 is still needed: without it, a user not yet re-wrapped cannot sign in.
    const stillOnK1 = [...sealed.keys()].at(-1)!;
    await expect(
      createUserKeys(store, [k2]).forUser(stillOnK1).open(sealed.get(stillOnK1)!.value),
    ).rejects.toThrow(/k1/);
    // Meanwhile the service still opens everything, whichever key wraps it.
    for (const [user, { secret, value }] of sealed)
      expect(await rotating.forUser(user).open(value)).toBe(secret);

    const second = await rotating.rotate();
    expect(second).toEqual({ examined: 40, rewrapped: 20, unusable: 0 });
    expect(await rotating.census()).toEqual(new Map([['k2', { dataKeys: 40, usable: 40 }]]));

    // k1 removed from the configuration: every user's secret still opens.
    const after = createUserKeys(store, [k2]);
    for (const [user, { secret, value }] of sealed)
      expect(await after.forUser(user).open(value)).toBe(secret);
    await store.close();
  });

  it('does not bring back a key erased while the rotation ran', async () => {
    const store = openSqliteKeyStore(dir, 'erased.sqlite');
    await createUserKeys(store, [k1]).forUser('gone').seal('secret');
    const record = await store.get('gone');
    await store.destroy('gone');
    expect(
      await store.rewrap('gone', record!.dataKeyId, 'k1', { wrappingKeyId: 'k2', wrapped: record!.wrapped }),
    ).toBe(false);
    expect(await store.get('gone')).toBeNull();
    await store.close();
  });
});
