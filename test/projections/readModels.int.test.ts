import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import type { AuditRecord } from '../../src/projections/auditRecord.ts';
import type { ProjectedEvent, Projection } from '../../src/projections/projection.ts';
import {
  openReadModels,
  PROJECTIONS,
  READ_MODELS_FILE,
  type ReadModels,
  ReadModelsLockedError,
} from '../../src/projections/readModels.ts';
import { eventually } from '../support/eventually.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { admin, historyWriter, web, writeHistory } from './history.ts';
import { dumpTables } from './kit.ts';

/*
 * One file, over 350 lines: every query of the read models is checked against one recorded
 * history, written once for the suite, and the tests read best beside it.
 */

const dirs = tempDirs('read-models');
afterAll(() => dirs.removeAll());

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

async function headOf(store: SqliteEventStore): Promise<{ position: bigint; count: number }> {
  let position = 0n;
  let count = 0;
  for await (const event of store.readAll()) {
    position = event.position;
    count += 1;
  }
  return { position, count };
}

async function caughtUpTo(readModels: ReadModels, position: bigint): Promise<void> {
  await eventually(
    async () =>
      (await readModels.status()).every((status) => BigInt(status.position) >= position) ? true : undefined,
    `every projection at ${position}`,
  );
}

const MINUTE = 60_000;

describe('read models over a realistic history', async () => {
  const dataDir = await dirs.make();
  const store = openSqliteEventStore({ dataDir });
  const writer = historyWriter(store, dataDir);
  // Started before anything is written: the history arrives live, a few events at a time.
  const readModels = openReadModels({ dataDir, store, keys: writer.keys });
  await readModels.start();
  const userIds = await writeHistory(writer, 60);
  const head = await headOf(store);
  await caughtUpTo(readModels, head.position);
  const file = join(dataDir, READ_MODELS_FILE);

  afterAll(async () => {
    await readModels.stop();
    writer.close();
    await store.close();
  });

  it('has one audit record per event, in log order, with the positions of the log', async () => {
    const log = await collect(store.readAll());
    const records = await collect(readModels.auditEvents({}));
    expect(records.map((record) => record.position)).toEqual(log.map((event) => event.position.toString()));
    expect(records.map((record) => record.type)).toEqual(log.map((event) => event.type));
    expect(head.count).toBeGreaterThan(500);
  });

  it('comes out identical, row for row, when rebuilt from zero, all at once or one by one', async () => {
    const live = dumpTables(file);
    expect(Object.keys(live)).toEqual(
      expect.arrayContaining(['users', 'audit_events', 'notifications', 'projection_checkpoints']),
    );
    expect(live.users!.length).toBe(userIds.length);
    await readModels.rebuild();
    expect(dumpTables(file)).toEqual(live);
    for (const name of readModels.names) {
      const progress: number[] = [];
      await readModels.rebuild(name, (applied) => progress.push(applied));
      expect(progress.at(-1)).toBe(head.count);
      expect(dumpTables(file)).toEqual(live);
    }
    // and in a file of its own, built by another runner in one catch-up
    const other = openReadModels({ dataDir, store, fileName: 'fresh.sqlite', batchSize: 7 } as never);
    await other.start();
    await other.caughtUp();
    await other.stop();
    expect(dumpTables(join(dataDir, 'fresh.sqlite'))).toEqual(live);
  });

  it('lists users as the domain sees them, locks included', async () => {
    // Two enabled users locked right now: one for a minute, one (after an unlock) again.
    const [lockedA, lockedB] = [userIds[3]!, userIds[8]!];
    for (const user of [lockedA, lockedB]) {
      for (let i = 0; i < 5; i++) {
        await writer.service.verify(user, { code: '000000' }, web(user)).catch(() => undefined);
      }
    }
    const end = await headOf(store);
    await caughtUpTo(readModels, end.position);
    const nowMs = writer.clock.now();
    expect(
      readModels
        .listUsers({ nowMs, limit: 500 })
        .users.filter((user) => user.locked)
        .map((user) => user.userId),
    ).toEqual([lockedA, lockedB]);
    expect(
      readModels.listUsers({ nowMs: nowMs + 61_000, limit: 500 }).users.some((user) => user.locked),
    ).toBe(false);
    const { users, nextCursor } = readModels.listUsers({ limit: 500, nowMs });
    expect(nextCursor).toBeNull();
    expect(users.map((user) => user.userId)).toEqual([...userIds].sort());
    for (const user of users) {
      const status = await writer.service.status(user.userId);
      expect(user, user.userId).toEqual({
        userId: status.userId,
        status: status.status,
        enabledAt: status.enabledAt,
        recoveryCodesRemaining: status.recoveryCodesRemaining,
        authenticators: status.authenticators,
        locked: status.locked,
        recoveryCodesLocked: status.recoveryCodesLocked,
        enrollBy: status.enrollBy,
      });
    }
    expect(new Set(users.map((user) => user.status))).toEqual(new Set(['enabled', 'disabled', 'pending']));
  });

  it('pages the user list with a status filter, pending enrollments expiring by the clock', () => {
    const nowMs = writer.clock.now();
    const all = readModels.listUsers({ limit: 500, nowMs }).users;
    for (const [at, label] of [
      [nowMs, 'now'],
      [nowMs + 16 * MINUTE * 1000, 'after every pending enrollment expired'],
    ] as const) {
      for (const status of ['enabled', 'disabled', 'pending'] as const) {
        const expected = readModels
          .listUsers({ limit: 500, nowMs: at })
          .users.filter((user) => user.status === status);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 100; page++) {
          const result = readModels.listUsers({ status, limit: 3, nowMs: at, ...(cursor ? { cursor } : {}) });
          expect(result.users.length).toBeLessThanOrEqual(3);
          for (const user of result.users) expect(user.status, label).toBe(status);
          seen.push(...result.users.map((user) => user.userId));
          if (result.nextCursor === null) break;
          expect(result.users.length).toBe(3);
          cursor = result.nextCursor;
        }
        expect(seen, `${status} ${label}`).toEqual(expected.map((user) => user.userId));
      }
    }
    // The last user enrolled (shape 4) only started: pending now, disabled once expired.
    const pendingNow = readModels.listUsers({ status: 'pending', nowMs, limit: 500 }).users;
    expect(pendingNow.length).toBeGreaterThan(0);
    const later = nowMs + 15 * MINUTE;
    const expired = readModels.listUsers({ status: 'disabled', nowMs: later, limit: 500 }).users;
    for (const user of pendingNow) expect(expired.map((u) => u.userId)).toContain(user.userId);
    expect(readModels.listUsers({ status: 'pending', nowMs: later, limit: 500 }).users).toEqual([]);
    expect(all.length).toBe(userIds.length);
  });

  it('refuses a cursor it did not hand out and a limit out of range', () => {
    const nowMs = writer.clock.now();
    expect(() => readModels.listUsers({ cursor: 'not a cursor!', nowMs })).toThrow(/cursor/);
    expect(() =>
      readModels.listUsers({ cursor: Buffer.from('bad id with spaces').toString('base64url'), nowMs }),
    ).toThrow(/cursor/);
    expect(() => readModels.listUsers({ limit: 0, nowMs })).toThrow(/limit/);
    expect(() => readModels.listUsers({ limit: 501, nowMs })).toThrow(/limit/);
  });

  it('pages the audit history in order with filters, however small the page', async () => {
    const log = await collect(store.readAll());
    const records = await collect(readModels.auditEvents({ pageSize: 7 } as never));
    expect(records.length).toBe(log.length);
    expect(records.map((r) => BigInt(r.position))).toEqual(log.map((e) => e.position));

    const user = userIds[0]!;
    const mine = await collect(readModels.auditEvents({ userId: user, pageSize: 2 } as never));
    expect(mine.map((r) => r.position)).toEqual(
      log.filter((e) => e.data.userId === user).map((e) => e.position.toString()),
    );
    expect(mine.map((r) => r.type)).toContain('VerificationFailed');

    const middle = log[Math.floor(log.length / 2)]!.position;
    const after = await collect(readModels.auditEvents({ after: middle, limit: 10, pageSize: 3 } as never));
    expect(after.map((r) => BigInt(r.position))).toEqual(
      log
        .filter((e) => e.position > middle)
        .slice(0, 10)
        .map((e) => e.position),
    );

    const since = log[100]!.recordedAt.toISOString();
    const until = log[400]!.recordedAt.toISOString();
    const window = await collect(readModels.auditEvents({ since, until }));
    const expected = log.filter(
      (e) => e.recordedAt.toISOString() >= since && e.recordedAt.toISOString() < until,
    );
    expect(window.map((r) => r.position)).toEqual(expected.map((e) => e.position.toString()));
    expect(window.length).toBeGreaterThan(0);
  });

  it('holds no secret or recovery code anywhere in the read models', () => {
    const text = JSON.stringify(dumpTables(file), (_key, value) =>
      typeof value === 'bigint' ? String(value) : value,
    );
    expect(writer.secretsShown.length).toBeGreaterThan(100);
    for (const shown of writer.secretsShown) expect(text).not.toContain(shown);
    for (const word of ['digests', 'ciphertext', 'nonce', '"salt"', '"hash"', 'argon2id'])
      expect(text).not.toContain(word);
  });

  it('notifies in log order, with a low-codes warning right after the use that left two', async () => {
    const page = await readModels.notifications({ limit: 500 });
    const kinds = page.notifications.map((n) => n.kind);
    for (const kind of [
      'two-factor-enabled',
      'two-factor-disabled',
      'authenticator-replaced',
      'recovery-codes-regenerated',
      'recovery-code-used',
      'recovery-codes-low',
      'factor-locked',
      'admin-reset',
    ]) {
      expect(kinds).toContain(kind);
    }
    page.notifications.forEach((n, index) => {
      if (n.kind === 'recovery-codes-low') {
        const before = page.notifications[index - 1]!;
        expect(before.kind).toBe('recovery-code-used');
        expect(before.position).toBe(n.position);
        expect(n.details.remaining).toBeLessThanOrEqual(2);
      }
      if (n.kind === 'recovery-code-used') expect(typeof n.details.remaining).toBe('number');
      if (n.kind === 'admin-reset') expect(n.details).not.toHaveProperty('reason');
    });
    const positions = page.notifications.map((n) => BigInt(n.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(positions);
    const used = page.notifications.find((n) => n.kind === 'recovery-code-used')!;
    expect(used.details).toMatchObject({
      endUserIp: expect.stringMatching(/^198\.51\.100\./),
      endUserAgent: expect.any(String),
    });
  });

  it('resumes the notification feed after the last position without missing or repeating', async () => {
    const all = (await readModels.notifications({ limit: 500 })).notifications;
    const resumed: typeof all = [];
    let after: bigint | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await readModels.notifications({ limit: 1, ...(after === undefined ? {} : { after }) });
      if (result.notifications.length === 0) {
        expect(result.nextAfter).toBe(after === undefined ? null : after.toString());
        break;
      }
      // the pair of one event is never split: a page of one may hold two
      expect(new Set(result.notifications.map((n) => n.position)).size).toBe(1);
      resumed.push(...result.notifications);
      expect(result.nextAfter).toBe(result.notifications.at(-1)!.position);
      after = BigInt(result.nextAfter!);
    }
    expect(resumed).toEqual(all);
  });

  it('follows the log live: an event appended now shows up', async () => {
    const user = 'late-comer';
    await writer.service.startEnrollment(user, { accountName: user, proof: null }, web(user, 7));
    await writer.service.reset(user, 'follow-up', admin());
    const records = await eventually(async () => {
      const found = await collect(readModels.auditEvents({ userId: user }));
      return found.length === 2 ? found : undefined;
    }, 'the new events in the audit');
    expect(records.map((r: AuditRecord) => r.type)).toEqual(['EnrollmentStarted', 'AdminReset']);
    await eventually(
      () =>
        readModels.listUsers({ nowMs: writer.clock.now(), limit: 500 }).users.some((u) => u.userId === user)
          ? true
          : undefined,
      'the new user in the list',
    );
  });

  it('reports each checkpoint and its lag', async () => {
    const now = await headOf(store);
    await caughtUpTo(readModels, now.position);
    const status = await readModels.status();
    expect(status).toEqual(
      PROJECTIONS.map(({ name, version }) => ({
        name,
        version,
        position: now.position.toString(),
        lagEvents: 0,
      })),
    );
  });
});

describe('projection versions', () => {
  const marker = (version: number): Projection => ({
    name: 'marker',
    version,
    migrate(db: Database.Database) {
      db.exec('CREATE TABLE IF NOT EXISTS marker (position INTEGER PRIMARY KEY, version INTEGER NOT NULL)');
    },
    apply(db: Database.Database, event: ProjectedEvent) {
      db.prepare('INSERT INTO marker (position, version) VALUES (?, ?)').run(event.position, version);
    },
    reset(db: Database.Database) {
      db.exec('DROP TABLE IF EXISTS marker');
    },
  });

  it('rebuilds a projection whose version changed, at start, with no manual step', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    try {
      await writeHistory(writer, 5);
      const head = await headOf(store);
      const first = openReadModels({ dataDir, store, projections: [...PROJECTIONS, marker(1)] } as never);
      await first.start();
      await first.caughtUp();
      await first.stop();
      const before = dumpTables(join(dataDir, READ_MODELS_FILE));
      expect(new Set(before.marker!.map((row) => (row as { version: bigint }).version))).toEqual(
        new Set([1n]),
      );

      const second = openReadModels({ dataDir, store, projections: [...PROJECTIONS, marker(2)] } as never);
      await second.start();
      await second.caughtUp();
      const status = await second.status();
      await second.stop();
      const after = dumpTables(join(dataDir, READ_MODELS_FILE));
      expect(after.marker!.length).toBe(head.count);
      expect(new Set(after.marker!.map((row) => (row as { version: bigint }).version))).toEqual(
        new Set([2n]),
      );
      expect(status.find((s) => s.name === 'marker')).toMatchObject({
        version: 2,
        position: head.position.toString(),
      });
      // the others were not touched
      expect(after.audit_events).toEqual(before.audit_events);
      expect(after.users).toEqual(before.users);
    } finally {
      writer.close();
      await store.close();
    }
  });

  it('resolves caughtUp only once the head as of the start is applied', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    try {
      await writeHistory(writer, 20);
      const head = await headOf(store);
      const readModels = openReadModels({ dataDir, store, batchSize: 3 } as never);
      expect(readModels.isCaughtUp()).toBe(false);
      await readModels.start();
      await readModels.caughtUp();
      expect(readModels.isCaughtUp()).toBe(true);
      const status = await readModels.status();
      await readModels.stop();
      for (const s of status) expect(BigInt(s.position)).toBeGreaterThanOrEqual(head.position);
    } finally {
      writer.close();
      await store.close();
    }
  });

  it('refuses a rebuild by another runner while the service follows, and loses and doubles nothing', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    const writer = historyWriter(store, dataDir);
    try {
      await writeHistory(writer, 30);
      const service = openReadModels({ dataDir, store, retryDelayMs: 20 } as never);
      await service.start();
      await service.caughtUp();
      const commandLine = openReadModels({ dataDir, store, batchSize: 50 } as never);
      const [rebuilt] = await Promise.allSettled([
        commandLine.rebuild(),
        writeHistory(writer, 10, 'meanwhile'),
      ]);
      // The service holds the read models' lock: the other runner writes nothing at all.
      expect(rebuilt.status).toBe('rejected');
      expect((rebuilt as PromiseRejectedResult).reason).toBeInstanceOf(ReadModelsLockedError);
      expect(String((rebuilt as PromiseRejectedResult).reason.message)).toMatch(
        new RegExp(`^the service \\(pid ${process.pid} on .+\\) is running: stop it first`),
      );
      await commandLine.stop();
      const head = await headOf(store);
      await caughtUpTo(service, head.position);
      await service.stop();
      const fresh = openReadModels({ dataDir, store, fileName: 'fresh.sqlite' } as never);
      await fresh.start();
      await fresh.caughtUp();
      await fresh.stop();
      expect(dumpTables(join(dataDir, READ_MODELS_FILE))).toEqual(dumpTables(join(dataDir, 'fresh.sqlite')));
    } finally {
      writer.close();
      await store.close();
    }
  });

  it('rejects caughtUp when stopped before catching up, and refuses an unknown name', async () => {
    const dataDir = await dirs.make();
    const store = openSqliteEventStore({ dataDir });
    try {
      const readModels = openReadModels({ dataDir, store });
      const waiting = readModels.caughtUp();
      await readModels.stop();
      await expect(waiting).rejects.toThrow(/stopped/);
      const again = openReadModels({ dataDir, store });
      await expect(again.rebuild('nope')).rejects.toThrow(/no projection named nope/);
      await again.stop();
    } finally {
      await store.close();
    }
  });
});
