import { afterAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openPersonalFields, sealedPersonalFieldsOf } from '../../src/keys/personalFields.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { META, outcome, serviceOver, TEST_KEY_STORE, TEST_KEYS } from './serviceFixture.ts';

const dirs = tempDirs('two-factor-refusals');
afterAll(() => dirs.removeAll());

async function typesOf(store: EventStore, userId: string): Promise<string[]> {
  const types: string[] = [];
  for await (const event of store.readStream(`two-factor-${userId}`)) types.push(event.type);
  return types;
}

const from = (ip: string) => ({ ...META, endUserIp: ip });

describe('a flood of attempts on a locked factor', () => {
  it('records the first refusal of the lock and one count of the rest once the lock ends', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, enable, clock } = serviceOver(store, createInMemorySnapshotStore());
    await enable('ada');
    for (let i = 0; i < 5; i++) await outcome(service.verify('ada', { code: '000000' }, META));
    const lockedAt = clock.now();
    const before = (await typesOf(store, 'ada')).length;
    for (let i = 0; i < 300; i++) {
      clock.advance(100);
      const verdict = await outcome(service.verify('ada', { code: '123456' }, from(`198.51.100.${i % 20}`)));
      expect(verdict).toBe('locked');
    }
    expect((await typesOf(store, 'ada')).slice(before)).toEqual(['VerificationRefused']);

    // The lock ends; the next attempt records the count first, then is decided as usual.
    clock.set(lockedAt + 61_000);
    expect(await outcome(service.verify('ada', { code: '000000' }, META))).toBe('invalid-code');
    const events: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[] = [];
    for await (const event of store.readStream('two-factor-ada')) events.push(event);
    const after = events.slice(before);
    expect(after.map((e) => e.type)).toEqual([
      'VerificationRefused',
      'RefusedAttemptsCounted',
      'VerificationFailed',
    ]);
    const counted = after[1]!.data;
    expect(counted.attempts).toBe(299);
    // The addresses are the user's personal data: stored sealed with the user's data key.
    expect(counted.endUserIps).toBeUndefined();
    const sealed = sealedPersonalFieldsOf(readMetadata(after[1]!.metadata));
    expect(sealed).not.toBeNull();
    const opened = await openPersonalFields(
      sealed!,
      createUserKeys(TEST_KEY_STORE, TEST_KEYS).forUser('ada'),
    );
    expect(opened?.data.endUserIps).toHaveLength(16);
    expect(Date.parse(counted.firstAt as string)).toBeLessThan(Date.parse(counted.lastAt as string));
    await service.close();
    await store.close();
  });

  it('records the count ahead of an unlock during the lock, so the log keeps the order', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, enable } = serviceOver(store, createInMemorySnapshotStore());
    await enable('dan');
    for (let i = 0; i < 5; i++) await outcome(service.verify('dan', { code: '000000' }, META));
    for (let i = 0; i < 4; i++) await outcome(service.verify('dan', { code: '123456' }, META));
    await service.unlock('dan', { ...META, actor: { role: 'admin', id: 'root' } });
    expect((await typesOf(store, 'dan')).slice(-3)).toEqual([
      'VerificationRefused',
      'RefusedAttemptsCounted',
      'LockoutCleared',
    ]);
    await service.close();
    await store.close();
  });

  it('records what is still counted when the service closes', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, enable } = serviceOver(store, createInMemorySnapshotStore());
    await enable('bob');
    for (let i = 0; i < 5; i++) await outcome(service.verify('bob', { code: '000000' }, META));
    for (let i = 0; i < 10; i++) await outcome(service.verify('bob', { code: '123456' }, META));
    await service.close();
    const types = await typesOf(store, 'bob');
    expect(types.filter((t) => t === 'VerificationRefused')).toHaveLength(1);
    expect(types.at(-1)).toBe('RefusedAttemptsCounted');
    await store.close();
  });

  it('bounds failed first-enrollment confirmations by the same lockout', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, clock } = serviceOver(store, createInMemorySnapshotStore());
    await service.startEnrollment('cy', { accountName: 'cy', proof: null }, META);
    const verdicts: string[] = [];
    for (let i = 0; i < 200; i++) {
      clock.advance(10);
      verdicts.push(await outcome(service.confirmEnrollment('cy', '000000', META)));
    }
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill('invalid-code'));
    expect(new Set(verdicts.slice(5))).toEqual(new Set(['locked']));
    expect(await typesOf(store, 'cy')).toEqual([
      'EnrollmentStarted',
      ...Array(5).fill('VerificationFailed'),
      'FactorLocked',
      'VerificationRefused',
    ]);
    await service.close();
    await store.close();
  });
});
