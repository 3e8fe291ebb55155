import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashRaw } from '@node-rs/argon2';
import Database from 'better-sqlite3';
import pino from 'pino';
import { createTwoFactorService } from '../src/application/twoFactorService.ts';
import { createRecoveryCodeHasher, DEFAULT_DIGEST_PARAMETERS } from '../src/crypto/recoveryCodeHasher.ts';
import type { EncryptionKey } from '../src/crypto/secretBox.ts';
import type { DigestParameters } from '../src/domain/twoFactor/recoveryCodes.ts';
import type { EventToAppend } from '../src/eventStore/eventStore.ts';
import { migrate } from '../src/eventStore/sqlite/migrations.ts';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { openSqliteKeyStore } from '../src/keys/sqliteKeyStore.ts';
import { createUserKeys } from '../src/keys/userKeys.ts';
import { openReadModels } from '../src/projections/readModels.ts';
import { openSqliteSnapshotStore } from '../src/snapshots/sqliteSnapshotStore.ts';
import { median, sideBySide } from './sideBySide.ts';
import type { TargetResult } from './support/result.ts';
import {
  benchCredentials,
  currentCode,
  END_USER,
  enrollUsers,
  type SeededUser,
  seedInMemoryThenCopy,
  seedingService,
  signInMeta,
} from './support/seed.ts';

export type StoreBenchOptions = { readonly quick: boolean; readonly workDir: string };

/** A service over the store in `dataDir` with an empty cache, as after a restart or on another instance. */
function coldService(input: {
  dataDir: string;
  encryptionKeys: readonly EncryptionKey[];
  clock: () => number;
  digestParameters?: DigestParameters;
}) {
  const store = openSqliteEventStore({ dataDir: input.dataDir });
  const snapshots = openSqliteSnapshotStore(input.dataDir);
  const keyStore = openSqliteKeyStore(input.dataDir);
  const fresh = () =>
    createTwoFactorService({
      store,
      snapshots,
      keys: createUserKeys(keyStore, input.encryptionKeys),
      hasher: createRecoveryCodeHasher(input.digestParameters ?? DEFAULT_DIGEST_PARAMETERS),
      clock: input.clock,
      issuer: 'bench',
    });
  return {
    fresh,
    store,
    async close() {
      await store.close();
      await keyStore.close();
      snapshots.close();
    },
  };
}

const elapsedMs = async (work: () => Promise<unknown>) => {
  const began = performance.now();
  await work();
  return performance.now() - began;
};

/** 4. One recovery-code check through the service against one argon2id hash with the same parameters. */
export async function recoveryCodeTarget(options: StoreBenchOptions): Promise<TargetResult> {
  const rounds = options.quick ? 7 : 11;
  const perRound = options.quick ? 2 : 3;
  const dataDir = join(options.workDir, 'recovery');
  const { encryptionKeys } = benchCredentials();
  const users = await seedInMemoryThenCopy(dataDir, async (scratch) => {
    const seeding = seedingService({
      dataDir: scratch,
      encryptionKeys,
      digestParameters: DEFAULT_DIGEST_PARAMETERS,
    });
    try {
      return await enrollUsers(seeding.service, {
        prefix: 'recovering',
        count: Math.ceil((rounds * perRound) / 10),
      });
    } finally {
      await seeding.close();
    }
  });
  const codes = users.flatMap((user) => user.recoveryCodes.map((code) => ({ userId: user.userId, code })));
  const services = coldService({ dataDir, encryptionKeys, clock: Date.now });
  const p = DEFAULT_DIGEST_PARAMETERS;
  try {
    const result = await sideBySide({
      name: 'recovery-code check',
      rounds,
      unit: 'ms',
      baselineLabel: 'one argon2id hash',
      candidateLabel: 'service.verify (cold)',
      baseline: async () => {
        let total = 0;
        for (let i = 0; i < perRound; i++) {
          total += await elapsedMs(() =>
            hashRaw(randomBytes(10).toString('hex'), {
              algorithm: 2,
              salt: randomBytes(16),
              memoryCost: p.memoryCost,
              timeCost: p.timeCost,
              parallelism: p.parallelism,
              outputLen: p.outputLength,
            }),
          );
        }
        return total / perRound;
      },
      candidate: async () => {
        let total = 0;
        for (let i = 0; i < perRound; i++) {
          const next = codes.shift();
          if (!next) throw new Error('out of seeded recovery codes');
          total += await elapsedMs(() =>
            services.fresh().verify(next.userId, { recoveryCode: next.code }, signInMeta()),
          );
        }
        return total / perRound;
      },
    });
    return {
      name: '4. recovery-code check vs one argon2id hash',
      value: result.candidate,
      baseline: result.baseline,
      ratio: result.ratio,
      target: '<= 1.2x',
      ok: result.ratio <= 1.2,
      unit: 'ms',
      note: `argon2id m=${p.memoryCost} KiB t=${p.timeCost} p=${p.parallelism}; each check on a service with an empty cache, append fsync'd`,
    };
  } finally {
    await services.close();
  }
}

/** 5. Verify latency (cold cache: snapshot + tail) for a user with 10,000 past events against one with 10. */
export async function historyTarget(options: StoreBenchOptions): Promise<TargetResult> {
  const rounds = options.quick ? 7 : 11;
  const perRound = options.quick ? 5 : 9;
  const history = 10_000;
  const dataDir = join(options.workDir, 'history');
  const { encryptionKeys } = benchCredentials();
  // A clock the benchmark moves: one 30-second step per sign-in, so each has a fresh code.
  let now = Date.UTC(2026, 0, 15, 9, 0, 0);
  const clock = () => now;
  const seedStarted = performance.now();
  const [busy, quiet] = await seedInMemoryThenCopy(dataDir, async (scratch) => {
    const seeding = seedingService({ dataDir: scratch, encryptionKeys, clock });
    try {
      const users = await enrollUsers(seeding.service, { prefix: 'history', count: 2, clock });
      const signIn = (user: SeededUser) =>
        seeding.service.verify(user.userId, { code: currentCode(user.secret, now) }, signInMeta());
      // Enrollment wrote two events; the rest are sign-ins.
      for (let i = 2; i < history; i++) {
        now += 30_000;
        await signIn(users[0]!);
        if (i < 10) await signIn(users[1]!);
      }
      return users as [SeededUser, SeededUser];
    } finally {
      await seeding.close();
    }
  });
  process.stdout.write(
    `seeded a user with ${history} events in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`,
  );
  const services = coldService({ dataDir, encryptionKeys, clock });
  // The median of a round's sign-ins: one fsync that a neighbour's burst delays must not
  // decide the round.
  const verifyMs = async (user: SeededUser) => {
    const latencies: number[] = [];
    for (let i = 0; i < perRound; i++) {
      now += 30_000;
      latencies.push(
        await elapsedMs(() =>
          services.fresh().verify(user.userId, { code: currentCode(user.secret, now) }, signInMeta()),
        ),
      );
    }
    return median(latencies);
  };
  try {
    // Once each first: the first cold load of the long stream saves its snapshot, as in service.
    await verifyMs(busy);
    await verifyMs(quiet);
    const result = await sideBySide({
      name: 'history independence',
      rounds,
      unit: 'ms',
      baselineLabel: 'user with 10 events',
      candidateLabel: `user with ${history} events`,
      baseline: () => verifyMs(quiet),
      candidate: () => verifyMs(busy),
    });
    return {
      name: '5. verify, 10,000 past events vs 10',
      value: result.candidate,
      baseline: result.baseline,
      ratio: result.ratio,
      target: '<= 1.2x',
      ok: result.ratio <= 1.2,
      unit: 'ms',
      note: "each sign-in on a service with an empty cache (snapshot + tail), append fsync'd",
    };
  } finally {
    await services.close();
  }
}

/** A sign-in event as the service stores it (data, metadata with the chain hash). */
function signInRow(userId: string): EventToAppend {
  return {
    id: randomUUID(),
    type: 'SignInVerified',
    data: { userId, at: new Date().toISOString(), method: 'totp', step: 59_000_000 },
    metadata: { ...signInMeta(), schemaVersion: 1, hash: randomBytes(32).toString('hex') },
  };
}

/** 6. Events appended per second through the store port by 64 concurrent writers, against raw single-row fsync'd inserts. */
export async function appendTarget(options: StoreBenchOptions): Promise<TargetResult> {
  const rounds = options.quick ? 3 : 5;
  const writers = 64;
  const appendsPerWriter = options.quick ? 20 : 50;
  const rawInserts = options.quick ? 200 : 500;
  let run = 0;
  const throughStore = async () => {
    const dataDir = join(options.workDir, `append-${run++}`);
    const store = openSqliteEventStore({ dataDir });
    try {
      const began = performance.now();
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          const stream = `two-factor-writer-${writer}`;
          for (let i = 0; i < appendsPerWriter; i++) {
            await store.appendToStream(stream, [signInRow(`writer-${writer}`)], {
              expectedRevision: i === 0 ? 'no-stream' : BigInt(i - 1),
            });
          }
        }),
      );
      return (writers * appendsPerWriter) / ((performance.now() - began) / 1000);
    } finally {
      await store.close();
    }
  };
  const raw = async () => {
    const dataDir = join(options.workDir, `append-${run++}`);
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, 'events.sqlite'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      migrate(db);
      const insert = db.prepare(
        'INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const began = performance.now();
      for (let i = 0; i < rawInserts; i++) {
        const row = signInRow(`raw-${i % writers}`);
        insert.run(
          row.id,
          `two-factor-raw-${i % writers}`,
          Math.floor(i / writers),
          row.type,
          JSON.stringify(row.data),
          JSON.stringify(row.metadata),
          new Date().toISOString(),
        );
      }
      return rawInserts / ((performance.now() - began) / 1000);
    } finally {
      db.close();
    }
  };
  const result = await sideBySide({
    name: `append path, ${writers} concurrent writers (synchronous=FULL)`,
    rounds,
    unit: 'events/s',
    baselineLabel: 'raw single-row inserts',
    candidateLabel: 'store port',
    baseline: raw,
    candidate: throughStore,
  });
  return {
    name: "6. appends, 64 writers vs raw fsync'd inserts",
    value: result.candidate,
    baseline: result.baseline,
    ratio: result.ratio,
    target: '>= 5x',
    ok: result.ratio >= 5,
    unit: 'events/s',
  };
}

/** 9. Bytes on disk per sign-in event in the event store: event, metadata, chain hash, indexes. */
export async function storageTarget(options: StoreBenchOptions): Promise<TargetResult> {
  const signIns = options.quick ? 1000 : 10_000;
  const dataDir = join(options.workDir, 'storage');
  const { encryptionKeys } = benchCredentials();
  let offset = -60_000;
  const clock = () => Date.now() + offset;
  const seeding = seedingService({ dataDir, encryptionKeys, clock });
  const file = join(dataDir, 'events.sqlite');
  const usedBytes = (path: string) => {
    const db = new Database(path);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const pages = Number(db.pragma('page_count', { simple: true }));
      const free = Number(db.pragma('freelist_count', { simple: true }));
      return (pages - free) * Number(db.pragma('page_size', { simple: true }));
    } finally {
      db.close();
    }
  };
  const readModelsFile = join(dataDir, 'read-models.sqlite');
  const readModels = openReadModels({ dataDir, store: seeding.store, logger: pino({ level: 'silent' }) });
  const projected = async () => {
    for (let waited = 0; waited < 60_000; waited += 20) {
      if ((await readModels.status()).every((p) => p.lagEvents === 0)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the read models did not catch up within a minute');
  };
  try {
    const users = await enrollUsers(seeding.service, { prefix: 'user-3f2a9c1e-7b4d', count: signIns, clock });
    await readModels.start();
    await projected();
    const before = usedBytes(file);
    const readModelsBefore = usedBytes(readModelsFile);
    offset = 0;
    let payload = 0;
    for (let from = 0; from < users.length; from += 256) {
      await Promise.all(
        users.slice(from, from + 256).map((user) => {
          const metadata = signInMeta();
          return seeding.service.verify(user.userId, { code: currentCode(user.secret) }, metadata);
        }),
      );
    }
    const after = usedBytes(file);
    await projected();
    const readModelsPerSignIn = (usedBytes(readModelsFile) - readModelsBefore) / signIns;
    const db = new Database(file, { readonly: true });
    try {
      const row = db
        .prepare(
          `SELECT AVG(length(id) + length(stream_name) + length(type) + length(data) + length(metadata) + length(recorded_at) + 16) AS bytes
             FROM events WHERE type = 'SignInVerified'`,
        )
        .get() as { bytes: number };
      payload = row.bytes;
      // Where the bytes are: the table and each of its indexes, per event of the whole log.
      const events = Number(db.prepare('SELECT COUNT(*) FROM events').pluck().get());
      const parts = db
        .prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC')
        .all() as { name: string; bytes: number }[];
      process.stdout.write(
        `storage per event (all ${events} events): ${parts
          .filter((part) => part.bytes > 4096)
          .map((part) => `${part.name} ${(part.bytes / events).toFixed(0)} B`)
          .join(', ')}\n`,
      );
    } finally {
      db.close();
    }
    const perEvent = (after - before) / signIns;
    process.stdout.write(
      `storage: ${signIns} sign-ins grew the event store by ${(after - before).toLocaleString('en-US')} bytes, ` +
        `and the read models by ${readModelsPerSignIn.toFixed(0)} bytes a sign-in (audit record and its indexes)\n`,
    );
    return {
      name: '9. bytes on disk per sign-in event',
      value: perEvent,
      baseline: payload,
      ratio: perEvent / payload,
      target: '<= 400 B',
      ok: perEvent <= 400,
      unit: 'B',
      note: `baseline: the bytes of the row's own fields (ids, JSON data and metadata, time, two integers); user ids like ${users[0]?.userId}, with the end user's IP and a ${END_USER.agent.length}-character user agent`,
    };
  } finally {
    await readModels.stop();
    await seeding.close();
  }
}
