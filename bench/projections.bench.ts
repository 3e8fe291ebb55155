import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.ts';
import { openReadModels } from '../src/projections/readModels.ts';
import { sideBySide } from './sideBySide.ts';
import { startChild } from './support/child.ts';
import type { TargetResult } from './support/result.ts';
import {
  benchCredentials,
  currentCode,
  enrollUsers,
  seedInMemoryThenCopy,
  seedingService,
  signInMeta,
} from './support/seed.ts';

export type ProjectionBenchOptions = { readonly quick: boolean; readonly workDir: string };

const TEMPLATE_USERS = 200;
const SIGN_INS_PER_USER = 48;

/**
 * A log of `total` events: a template written by the service itself (enrollments, then
 * sign-ins), copied in SQL under other user ids until the log is long enough. A copy's
 * sealed secret stays bound to the template user, so it does not open under the copy's id;
 * copies are named `x{copy}-{user}`, after every template user, so the service's start-up
 * check of stored keys (which samples the first users of the list) meets template users only.
 */
export async function buildLog(
  dataDir: string,
  total: number,
  encryptionKeys: ReturnType<typeof benchCredentials>['encryptionKeys'],
) {
  let now = Date.UTC(2026, 0, 15, 9, 0, 0);
  const clock = () => now;
  await seedInMemoryThenCopy(dataDir, async (scratch) => {
    const seeding = seedingService({ dataDir: scratch, encryptionKeys, clock });
    try {
      const users = await enrollUsers(seeding.service, { prefix: 'log', count: TEMPLATE_USERS, clock });
      for (let i = 0; i < SIGN_INS_PER_USER; i++) {
        now += 30_000;
        await Promise.all(
          users.map((user) =>
            seeding.service.verify(user.userId, { code: currentCode(user.secret, now) }, signInMeta()),
          ),
        );
      }
    } finally {
      await seeding.close();
    }
    const db = new Database(join(scratch, 'events.sqlite'));
    try {
      const template = Number(db.prepare('SELECT COUNT(*) FROM events').pluck().get());
      const copy = db.prepare(
        `INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at)
         SELECT lower(hex(randomblob(16))), 'two-factor-x' || @copy || '-' || substr(stream_name, 12), revision, type,
                json_set(data, '$.userId', 'x' || @copy || '-' || json_extract(data, '$.userId')), metadata, recorded_at
           FROM events WHERE position <= @template ORDER BY position LIMIT @take`,
      );
      db.transaction(() => {
        for (let k = 1, have = template; have < total; k++) {
          const take = Math.min(template, total - have);
          copy.run({ copy: k, template, take });
          have += take;
        }
      })();
    } finally {
      db.close();
    }
  });
}

/**
 * 7. Rebuilding every projection from the log against a raw sequential read of the same
 * rows; then the start-up half of 8: the service ready on that log, already projected.
 */
export async function projectionTargets(options: ProjectionBenchOptions): Promise<TargetResult[]> {
  const total = options.quick ? 30_000 : 1_000_000;
  const rounds = 3;
  const dataDir = join(options.workDir, 'projections');
  const credentials = benchCredentials();
  const built = performance.now();
  await buildLog(dataDir, total, credentials.encryptionKeys);
  process.stdout.write(
    `built a log of ${total.toLocaleString('en-US')} events in ${((performance.now() - built) / 1000).toFixed(1)} s\n`,
  );

  const rawRead = async () => {
    const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
    try {
      const began = performance.now();
      let count = 0;
      for (const _row of db
        .prepare(
          'SELECT position, id, stream_name, revision, type, data, metadata, recorded_at FROM events ORDER BY position',
        )
        .safeIntegers(true)
        .iterate()) {
        count++;
      }
      return count / ((performance.now() - began) / 1000);
    } finally {
      db.close();
    }
  };
  const rebuild = async () => {
    const store = openSqliteEventStore({ dataDir });
    const readModels = openReadModels({ dataDir, store, logger: pino({ level: 'silent' }) });
    try {
      const began = performance.now();
      await readModels.rebuild();
      return total / ((performance.now() - began) / 1000);
    } finally {
      await readModels.stop();
      await store.close();
    }
  };
  const result = await sideBySide({
    name: `projection rebuild, ${total.toLocaleString('en-US')} events`,
    rounds,
    unit: 'events/s',
    baselineLabel: 'raw sequential read',
    candidateLabel: 'rebuild of every projection',
    baseline: rawRead,
    candidate: rebuild,
  });

  // Start-up: the service and the bare server, both compiled and started by the same launcher
  // (bench/support/child.ts), each spawned and polled until ready, in turn. The bare server
  // is measured twice: as bundled, and also given a code cache of its own like the service.
  const startupRounds = options.quick ? 3 : 5;
  let startupPeakRss = 0;
  const startService = async () => {
    const service = await startChild({
      kind: 'service',
      env: { ...credentials.env, NODE_ENV: 'production', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      logFile: join(options.workDir, 'service-startup.log'),
    });
    startupPeakRss = Math.max(startupPeakRss, service.peakRssBytes());
    await service.stop();
    return service.readyMs;
  };
  const startBare = (bareCodeCache: boolean) => async () => {
    const bare = await startChild({ kind: 'bare', bareCodeCache });
    await bare.stop();
    return bare.readyMs;
  };
  const started = await sideBySide({
    name: `start-up with ${total.toLocaleString('en-US')} events projected`,
    rounds: startupRounds,
    unit: 'ms',
    baselineLabel: 'bare Fastify process',
    candidateLabel: 'service process',
    baseline: startBare(false),
    candidate: startService,
  });
  const againstCached = await sideBySide({
    name: 'start-up, against a bare Fastify with a code cache of its own',
    rounds: startupRounds,
    unit: 'ms',
    baselineLabel: 'bare Fastify process, code cache',
    candidateLabel: 'service process',
    baseline: startBare(true),
    candidate: startService,
  });
  return [
    {
      name: `7. projection rebuild vs raw read`,
      value: result.candidate,
      baseline: result.baseline,
      ratio: result.ratio,
      target: '>= 0.3x',
      ok: result.ratio >= 0.3,
      unit: 'events/s',
      note: `${total.toLocaleString('en-US')} events; users, audit and notifications projections, read models in WAL mode with synchronous=NORMAL, committed 5,000 events a transaction`,
    },
    {
      name: '8. start-up: ready with the log projected',
      value: started.candidate,
      baseline: started.baseline,
      ratio: started.ratio,
      target: '<= 2x bare Fastify',
      ok: started.ratio <= 2,
      unit: 'ms',
      note: `spawn to first 200 of /health/ready, ${total.toLocaleString('en-US')} events already projected, median of ${startupRounds} rounds; baseline: the bare Fastify process, bundled alike and started by the same launcher; against one also given its own code cache: ${againstCached.ratio.toFixed(2)}x (${Math.round(againstCached.baseline)} ms); peak RSS of the service at ready ${(startupPeakRss / 2 ** 20).toFixed(0)} MB`,
    },
  ];
}
