import { afterAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openPersonalFields, sealedPersonalFieldsOf } from '../../src/keys/personalFields.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import { createInMemorySnapshotStore } from '../../src/snapshots/snapshotStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { testClock } from '../support/testService.ts';
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

describe('refusals counted by one instance while another erases the user', () => {
  it('are recorded without the erased user’s addresses or id, and make them no new data key', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const clock = testClock();
    const counting = serviceOver(store, createInMemorySnapshotStore(), clock);
    const erasing = serviceOver(store, createInMemorySnapshotStore(), clock);
    const web = { ...META, actor: { role: 'web' as const, id: 'zed.actor@example.com' } };
    await counting.enable('zed');
    for (let i = 0; i < 5; i++) await outcome(counting.service.verify('zed', { code: '000000' }, web));
    // The first refusal of the lock is recorded; the rest are counted in this instance's memory.
    for (let i = 0; i < 4; i++) {
      expect(await outcome(counting.service.verify('zed', { code: '123456' }, from(`198.51.100.${i}`)))).toBe(
        'locked',
      );
    }
    await erasing.service.erase('zed', 'erasure request', { ...META, actor: { role: 'admin', id: 'root' } });
    expect(await TEST_KEY_STORE.get('zed')).toBeNull();

    await counting.service.close();
    const events: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[] = [];
    for await (const event of store.readStream('two-factor-zed')) events.push(event);
    const counted = events.at(-1)!;
    expect(counted.type).toBe('RefusedAttemptsCounted');
    expect(counted.data).toMatchObject({ attempts: 3, endUserIps: [] });
    expect(readMetadata(counted.metadata).personal).toBeUndefined();
    expect(readMetadata(counted.metadata).actor).toEqual({ role: 'web', id: null });
    // No key was made to seal what was not there: the erased user has none.
    expect(await TEST_KEY_STORE.get('zed')).toBeNull();
    await erasing.service.close();
    await store.close();
  });

  it('an administrator’s reset after the erasure makes no data key either: its reason stays readable', async () => {
    const store = openSqliteEventStore({ dataDir: await dirs.make() });
    const { service, enable } = serviceOver(store, createInMemorySnapshotStore());
    const admin = { ...META, actor: { role: 'admin' as const, id: 'root' } };
    await enable('yan');
    await service.erase('yan', 'erasure request', admin);
    await service.reset('yan', 'asked again by phone, ticket 77', admin);
    expect(await TEST_KEY_STORE.get('yan')).toBeNull();
    const events: { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[] = [];
    for await (const event of store.readStream('two-factor-yan')) events.push(event);
    expect(events.at(-1)).toMatchObject({
      type: 'AdminReset',
      data: { reason: 'asked again by phone, ticket 77' },
    });
    expect(readMetadata(events.at(-1)!.metadata).personal).toBeUndefined();
    // A new enrollment is a new life: it gets a fresh data key.
    await enable('yan');
    expect(await TEST_KEY_STORE.get('yan')).not.toBeNull();
    await service.close();
    await store.close();
  });
});
