import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyStore, WrappedDataKey } from '../../src/keys/keyStore.ts';

const aKey = (userId: string, wrappingKeyId = 'k1'): WrappedDataKey => ({
  userId,
  dataKeyId: randomUUID(),
  wrappingKeyId,
  wrapped: randomBytes(60).toString('base64'),
  createdAt: new Date().toISOString(),
});

/**
 * What every key store must do, run against each adapter. User ids are random per test, so
 * a shared server (EventStoreDB) holding other runs' keys is fine.
 */
export function describeKeyStoreContract(name: string, open: () => Promise<KeyStore>): void {
  describe(`key store contract: ${name}`, () => {
    let store: KeyStore;
    const user = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('has no key for a user it never saw', async () => {
      expect(await store.get(user('nobody'))).toBeNull();
    });

    it('keeps a key and gives it back as it was', async () => {
      const key = aKey(user('ada'));
      expect(await store.create(key)).toEqual(key);
      expect(await store.get(key.userId)).toEqual(key);
    });

    it('keeps the first key of a user: a second create answers the first', async () => {
      const first = aKey(user('ada'));
      await store.create(first);
      const second = { ...aKey(first.userId), wrappingKeyId: 'k2' };
      expect(await store.create(second)).toEqual(first);
      expect(await store.get(first.userId)).toEqual(first);
    });

    it('gives racing creates of one user the same key', async () => {
      const userId = user('racer');
      const candidates = Array.from({ length: 8 }, () => aKey(userId));
      const answers = await Promise.all(candidates.map((key) => store.create(key)));
      const kept = await store.get(userId);
      expect(kept).not.toBeNull();
      expect(candidates.map((key) => key.dataKeyId)).toContain(kept?.dataKeyId);
      for (const answer of answers) expect(answer).toEqual(kept);
    });

    it('re-wraps a key only while it is wrapped as expected', async () => {
      const key = aKey(user('rot'));
      await store.create(key);
      const next = { wrappingKeyId: 'k2', wrapped: randomBytes(60).toString('base64') };
      expect(await store.rewrap(key.userId, key.dataKeyId, 'k0', next)).toBe(false);
      expect(await store.rewrap(key.userId, randomUUID(), 'k1', next)).toBe(false);
      expect(await store.get(key.userId)).toEqual(key);
      expect(await store.rewrap(key.userId, key.dataKeyId, 'k1', next)).toBe(true);
      expect(await store.get(key.userId)).toEqual({ ...key, ...next });
      // The rotation that lost a race sees the key already moved on.
      expect(await store.rewrap(key.userId, key.dataKeyId, 'k1', next)).toBe(false);
    });

    it('destroys a key for good, and lets the user have a fresh one afterwards', async () => {
      const key = aKey(user('erased'));
      await store.create(key);
      expect(await store.destroy(key.userId)).toBe(true);
      expect(await store.get(key.userId)).toBeNull();
      expect(await store.destroy(key.userId)).toBe(false);
      expect(
        await store.rewrap(key.userId, key.dataKeyId, 'k1', { wrappingKeyId: 'k2', wrapped: key.wrapped }),
      ).toBe(false);
      expect(await store.get(key.userId)).toBeNull();
      const fresh = aKey(key.userId);
      expect(await store.create(fresh)).toEqual(fresh);
      expect(await store.get(key.userId)).toEqual(fresh);
    });

    it('lists every key once, as it is now: after re-wraps and erasures too', async () => {
      const keys = Array.from({ length: 12 }, (_, i) => aKey(user(`list.${i}:x@y_z`)));
      for (const key of keys) await store.create(key);
      const moved = { wrappingKeyId: 'k2', wrapped: randomBytes(60).toString('base64') };
      await store.rewrap(keys[0]!.userId, keys[0]!.dataKeyId, 'k1', moved);
      await store.destroy(keys[1]!.userId);
      const ours = new Set(keys.map((key) => key.userId));
      const listed: WrappedDataKey[] = [];
      for await (const key of store.all()) if (ours.has(key.userId)) listed.push(key);
      const byUser = new Map(listed.map((key) => [key.userId, key]));
      expect(listed).toHaveLength(11);
      expect(byUser.size).toBe(11);
      expect(byUser.get(keys[0]!.userId)).toEqual({ ...keys[0], ...moved });
      expect(byUser.has(keys[1]!.userId)).toBe(false);
      for (const key of keys.slice(2)) expect(byUser.get(key.userId)).toEqual(key);
    });
  });
}
