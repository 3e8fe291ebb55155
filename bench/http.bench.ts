import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { seedPeer } from './servers/crudPeerStore.ts';
import { median, sideBySide } from './sideBySide.ts';
import { type Child, startChild } from './support/child.ts';
import { httpLoad, type LoadRequest, type LoadResult } from './support/load.ts';
import type { TargetResult } from './support/result.ts';
import {
  benchCredentials,
  currentCode,
  END_USER,
  enrollUsers,
  type SeededUser,
  seedInMemoryThenCopy,
  seedingService,
} from './support/seed.ts';

export type HttpBenchOptions = {
  readonly quick: boolean;
  readonly workDir: string;
  /** write CPU profiles of the service process here */
  readonly profileDir?: string;
};

const CONNECTIONS = 50;
/**
 * Each user signs in from an address of their own (in 198.18.0.0/15, the range set aside for
 * benchmarks), as many users do: the failure throttle counts attempts in flight per address,
 * and fifty connections from one address would be a burst from one place, not a product's load.
 */
const endUserHeaders = (index: number) => ({
  'x-end-user-ip': `198.${18 + ((index >> 16) & 1)}.${(index >> 8) & 255}.${index & 255}`,
  'x-end-user-agent': END_USER.agent,
});

const MB = 1024 * 1024;

/** Connections reading statuses while sign-ins run (target 13): a steady trickle beside the burst. */
const CONTENDED_READERS = 10;

const percentile = (values: readonly number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;

/**
 * Targets 1, 2, 3, the memory half of 8, and 10 to 13: the service (src/main.ts, the
 * production entry point with request logging and metrics), a bare Fastify server and the
 * CRUD peer (bench/servers/crudPeer.ts), each in its own process on 127.0.0.1, loaded in
 * turn by autocannon with the same requests on the same connections.
 */
export async function httpTargets(options: HttpBenchOptions): Promise<TargetResult[]> {
  const readRounds = options.quick ? 5 : 9;
  const readSeconds = options.quick ? 1 : 3;
  const signInRounds = options.quick ? 3 : 5;
  const signInsPerRound = options.quick ? 600 : 5000;
  // More than a per-key limit of 1,200 a minute (the default before the failure throttle) allows.
  const guardReads = options.quick ? 3000 : 10_000;
  const guardSignIns = options.quick ? 300 : 2000;
  const readers = options.quick ? 200 : 1000;
  const contendedRounds = options.quick ? 2 : 3;
  const contendedSignIns = options.quick ? 1000 : 3000;

  const dataDir = join(options.workDir, 'http');
  const credentials = benchCredentials();
  const seedStarted = performance.now();
  const seededAt = Date.now();
  const { readerUsers, signInUsers, guardUsers, contendedUsers } = await seedInMemoryThenCopy(
    dataDir,
    async (scratch) => {
      const seeding = seedingService({ dataDir: scratch, encryptionKeys: credentials.encryptionKeys });
      try {
        return {
          readerUsers: await enrollUsers(seeding.service, { prefix: 'reader', count: readers }),
          signInUsers: await enrollUsers(seeding.service, {
            prefix: 'signer',
            count: signInRounds * signInsPerRound,
          }),
          guardUsers: await enrollUsers(seeding.service, { prefix: 'guarded', count: guardSignIns }),
          contendedUsers: await enrollUsers(seeding.service, {
            prefix: 'contended',
            count: contendedRounds * contendedSignIns,
          }),
        };
      } finally {
        await seeding.close();
      }
    },
  );
  process.stdout.write(
    `seeded ${readers + signInRounds * signInsPerRound + guardSignIns + contendedUsers.length} enrolled users in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`,
  );
  // The CRUD peer holds the same sign-in users, their secrets sealed with its own key, each
  // with the step of the code that confirmed the enrollment (seeded a minute in the past).
  const peerKey = randomBytes(32);
  const peerFile = join(options.workDir, 'crud-peer.sqlite');
  seedPeer(
    peerFile,
    peerKey,
    signInUsers.map((user) => ({
      userId: user.userId,
      secret: user.secret,
      confirmedStep: Math.floor((seededAt - 60_000) / 30_000),
    })),
  );

  const auth = { authorization: `Bearer ${credentials.webKey}` };
  let readIndex = 0;
  const nextRead = (): LoadRequest => {
    const user = readerUsers[readIndex++ % readerUsers.length]!;
    return { method: 'GET', path: `/v1/users/${user.userId}/two-factor`, headers: auth };
  };
  const signIns = (users: readonly SeededUser[]): LoadRequest[] =>
    users.map((user, index) => ({
      method: 'POST',
      path: `/v1/users/${user.userId}/two-factor/verify`,
      headers: { ...auth, 'content-type': 'application/json', ...endUserHeaders(index) },
      body: JSON.stringify({ code: currentCode(user.secret) }),
    }));
  const cycle = (requests: readonly LoadRequest[]) => {
    let i = 0;
    return () => requests[i++ % requests.length]!;
  };

  const serviceEnv = {
    ...credentials.env,
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  const results: TargetResult[] = [];
  const failures: string[] = [];

  // Every target runs on the default configuration, exactly as shipped.
  const bare = await startChild({ kind: 'bare' });
  let service: Child | undefined;
  let peer: Child | undefined;
  try {
    peer = await startChild({
      kind: 'peer',
      env: { PEER_DB: peerFile, PEER_KEY: peerKey.toString('base64'), API_KEY: credentials.webKey },
    });
    const crud = peer;
    service = await startChild({
      kind: 'service',
      env: serviceEnv,
      logFile: join(options.workDir, 'service.log'),
      ...(options.profileDir ? { cpuProfileDir: options.profileDir } : {}),
    });
    const svc = service;
    const checked = (label: string) => (result: LoadResult) => {
      if (result.ok !== result.total || result.errors > 0) failures.push(`${label}: ${describe(result)}`);
      return result.rate;
    };
    // CPU time each process spends per answer: steadier than rates on a shared machine, and
    // what a capacity estimate divides a core by.
    const cpu = {
      bare: { seconds: 0, answers: 0 },
      service: { seconds: 0, answers: 0 },
      peer: { seconds: 0, answers: 0 },
    };
    const perAnswer = (m: { seconds: number; answers: number }) => (1e6 * m.seconds) / Math.max(1, m.answers);
    const metered = async (which: keyof typeof cpu, child: Child, run: () => Promise<LoadResult>) => {
      const before = child.cpuSeconds();
      const result = await run();
      cpu[which].seconds += child.cpuSeconds() - before;
      cpu[which].answers += result.total;
      return result;
    };
    /** CPU per answer of each process since the last report, then starts counting afresh. */
    const cpuReport = (what: string) => {
      const figures = {
        service: perAnswer(cpu.service),
        bare: perAnswer(cpu.bare),
        peer: perAnswer(cpu.peer),
      };
      process.stdout.write(
        `  CPU per ${what}: service ${figures.service.toFixed(0)} us, bare Fastify ${figures.bare.toFixed(0)} us` +
          `${cpu.peer.answers > 0 ? `, CRUD peer ${figures.peer.toFixed(0)} us` : ''}\n`,
      );
      for (const which of Object.keys(cpu) as (keyof typeof cpu)[]) cpu[which] = { seconds: 0, answers: 0 };
      return figures;
    };

    // 1. Any 429 from our own guard, with more requests than a per-key limit of the past
    // (1,200 a minute) would have let through, is a miss.
    {
      const reads = await httpLoad({
        url: svc.url,
        connections: CONNECTIONS,
        next: nextRead,
        amount: guardReads,
      });
      const signs = await httpLoad({
        url: svc.url,
        connections: CONNECTIONS,
        next: cycle(signIns(guardUsers)),
        amount: guardUsers.length,
      });
      const limited = (reads.statuses['429'] ?? 0) + (signs.statuses['429'] ?? 0);
      const total = reads.total + signs.total;
      results.push({
        name: '1. 429s of all answers, default config',
        value: limited,
        baseline: total,
        ratio: limited / total,
        target: '0 answers 429',
        ok: limited === 0 && total > 0,
        unit: 'answers',
        note: `${describe(reads)} to status reads, ${describe(signs)} to sign-ins`,
      });
    }

    // Warm both (JIT, caches), as in a running deployment.
    await httpLoad({ url: bare.url, connections: CONNECTIONS, next: nextRead, seconds: 1 });
    await httpLoad({ url: svc.url, connections: CONNECTIONS, next: nextRead, seconds: 1 });
    const reads = await sideBySide({
      name: 'status reads',
      rounds: readRounds,
      baselineLabel: 'bare Fastify',
      candidateLabel: 'service',
      baseline: () =>
        metered('bare', bare, () =>
          httpLoad({ url: bare.url, connections: CONNECTIONS, next: nextRead, seconds: readSeconds }),
        ).then(checked('bare status reads')),
      candidate: () =>
        metered('service', svc, () =>
          httpLoad({ url: svc.url, connections: CONNECTIONS, next: nextRead, seconds: readSeconds }),
        ).then(checked('service status reads')),
    });
    const readCpu = cpuReport('status read');
    const readCpuUs = readCpu.service;
    results.push({
      name: '2. status reads vs bare Fastify',
      value: reads.candidate,
      baseline: reads.baseline,
      ratio: reads.ratio,
      target: '>= 0.5x',
      ok: reads.ratio >= 0.5,
      unit: 'req/s',
      note: `the service used ${readCpuUs.toFixed(0)} us of CPU per status read`,
    });
    results.push({
      name: '12. CPU per status read vs bare Fastify',
      value: readCpu.service,
      baseline: readCpu.bare,
      ratio: readCpu.service / readCpu.bare,
      target: '<= 2x',
      ok: readCpu.service <= 2 * readCpu.bare,
      unit: 'us',
      note: 'user + system time of each process (all its threads) from /proc over the rounds of target 2, per answer',
    });

    // Sign-ins, three servers a round: bare Fastify (baseline of 3), the CRUD peer (baseline
    // of 10), then the service. The service and the peer each get this round's users once;
    // the bare route answers anything, so it gets them several times over, to run about as
    // long as the service does.
    const figure = (value: number) => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));
    const rates = { bare: [] as number[], peer: [] as number[], service: [] as number[] };
    for (let round = 0; round < signInRounds; round++) {
      const users = signInUsers.slice(round * signInsPerRound, (round + 1) * signInsPerRound);
      rates.bare.push(
        await metered('bare', bare, () =>
          httpLoad({
            url: bare.url,
            connections: CONNECTIONS,
            next: cycle(signIns(users)),
            amount: signInsPerRound * 4,
          }),
        ).then(checked('bare sign-ins')),
      );
      rates.peer.push(
        await metered('peer', crud, () =>
          httpLoad({
            url: crud.url,
            connections: CONNECTIONS,
            next: cycle(signIns(users)),
            amount: users.length,
          }),
        ).then(checked('CRUD peer sign-ins')),
      );
      rates.service.push(
        await metered('service', svc, () =>
          httpLoad({
            url: svc.url,
            connections: CONNECTIONS,
            next: cycle(signIns(users)),
            amount: users.length,
          }),
        ).then(checked('service sign-ins')),
      );
    }
    const ratiosTo = (baseline: number[]) => rates.service.map((rate, i) => rate / baseline[i]!);
    for (const [label, baseline] of [
      ['bare Fastify', rates.bare],
      ['CRUD peer', rates.peer],
    ] as const) {
      const ratios = ratiosTo(baseline);
      process.stdout.write(
        `sign-ins (valid TOTP, one per user): service / ${label} = ${median(ratios).toFixed(2)}x ` +
          `(median of ${signInRounds}: ${ratios.map((r) => r.toFixed(2)).join(' ')}; ` +
          `${figure(median(rates.service))} vs ${figure(median(baseline))} ops/s)\n`,
      );
    }
    const signInCpu = cpuReport('sign-in');
    const signInCpuUs = signInCpu.service;
    const versusBare = median(ratiosTo(rates.bare));
    const versusPeer = median(ratiosTo(rates.peer));
    results.push({
      name: '3. sign-ins (fsync) vs bare Fastify',
      value: median(rates.service),
      baseline: median(rates.bare),
      ratio: versusBare,
      target: '>= 0.5x',
      ok: versusBare >= 0.5,
      unit: 'req/s',
      note: `the service used ${signInCpuUs.toFixed(0)} us of CPU per sign-in (its projections included)`,
    });
    results.push({
      name: '10. sign-ins vs a CRUD peer',
      value: median(rates.service),
      baseline: median(rates.peer),
      ratio: versusPeer,
      target: '>= 3x',
      ok: versusPeer >= 3,
      unit: 'req/s',
      note: `${signInsPerRound} users a round, each signing in once with a fresh TOTP code, ${CONNECTIONS} connections; the peer: one Fastify route, one SQLite row per user (WAL, synchronous=FULL), AES-256-GCM sealed secret, replay refused by the last step used, an audit row per attempt, one fsync'd transaction per request`,
    });
    results.push({
      name: '11. CPU per sign-in, projections included',
      value: signInCpu.service,
      baseline: signInCpu.peer,
      ratio: signInCpu.service / signInCpu.peer,
      target: '<= 400 us',
      ok: signInCpu.service <= 400,
      unit: 'us',
      note: `user + system time of the service process (every thread: requests, the store's writer, the projections) over the rounds of target 10, per answer; baseline: the CRUD peer's`,
    });

    // 13. Status reads while sign-ins run: a few connections read while fifty sign in.
    // 14. Meanwhile, users start enrolling one after another; each is looked for in the admin
    // list (a projection) until it shows up.
    const contended: { p50: number; p99: number }[] = [];
    const listLags: number[] = [];
    let enrolling = 0;
    for (let round = 0; round < contendedRounds; round++) {
      const users = contendedUsers.slice(round * contendedSignIns, (round + 1) * contendedSignIns);
      const signing = httpLoad({
        url: svc.url,
        connections: CONNECTIONS,
        next: cycle(signIns(users)),
        amount: users.length,
      }).then(checked('service sign-ins beside reads'));
      let signingDone = false;
      void signing.finally(() => {
        signingDone = true;
      });
      const listing = (async () => {
        // Ids that sort before the earlier ones: the newest is always on the list's first page.
        while (!signingDone) {
          const userId = `lag-${String(999_999 - enrolling++).padStart(6, '0')}`;
          listLags.push(await adminListLag(svc.url, credentials, userId));
        }
      })();
      const reading = await httpLoad({
        url: svc.url,
        connections: CONTENDED_READERS,
        next: nextRead,
        seconds: 60,
        until: signing,
        latencies: true,
      });
      await signing;
      await listing;
      checked('status reads beside sign-ins')(reading);
      const latencies = reading.latenciesMs ?? [];
      contended.push({ p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) });
      process.stdout.write(
        `status reads beside ${users.length} sign-ins: ${latencies.length} reads, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
          `p99 ${percentile(latencies, 0.99).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(1)} ms\n`,
      );
    }
    const tailRatio = median(contended.map((c) => c.p99 / c.p50));
    results.push({
      name: '13. status-read p99 vs p50 while sign-ins run',
      value: median(contended.map((c) => c.p99)),
      baseline: median(contended.map((c) => c.p50)),
      ratio: tailRatio,
      target: 'p99 <= 3x p50',
      ok: tailRatio <= 3,
      unit: 'ms',
      note: `${CONTENDED_READERS} connections reading statuses while ${CONNECTIONS} sign in (${contendedSignIns} users a round, ${contendedRounds} rounds); each latency from the client's send to its answer`,
    });
    process.stdout.write(
      `admin list beside sign-ins: ${listLags.length} enrollments, shown after p50 ${percentile(listLags, 0.5).toFixed(1)} ms, ` +
        `p99 ${percentile(listLags, 0.99).toFixed(1)} ms, max ${Math.max(...listLags).toFixed(1)} ms\n`,
    );
    results.push({
      name: '14. admin list lag while sign-ins run, p99',
      value: percentile(listLags, 0.99),
      baseline: percentile(listLags, 0.5),
      ratio: percentile(listLags, 0.99) / percentile(listLags, 0.5),
      target: '< 1000 ms',
      ok: listLags.length > 0 && percentile(listLags, 0.99) < 1000,
      unit: 'ms',
      note: `${listLags.length} users started enrolling one after another during the rounds of 13; each lag from the 201 to the user's first appearance in GET /v1/admin/users?status=pending; baseline: the median`,
    });
    const peak = svc.peakRssBytes() / MB;
    const barePeak = bare.peakRssBytes() / MB;
    results.push({
      name: '8. memory: peak RSS of the service',
      value: peak,
      baseline: barePeak,
      ratio: peak / barePeak,
      target: '< 200 MB',
      ok: peak < 200,
      unit: 'MB',
      note: `peak RSS of the service process over its start, ${readRounds} rounds of status reads and ${signInRounds} of sign-ins; baseline: the bare Fastify process`,
    });
  } finally {
    await service?.stop();
    await peer?.stop();
    await bare.stop();
  }
  if (failures.length > 0) {
    process.stdout.write(`unexpected answers:\n  ${failures.join('\n  ')}\n`);
    for (const result of results.splice(1))
      results.push({ ...result, ok: false, note: 'unexpected answers (see above)' });
  }
  return results;
}

/**
 * Starts `userId`'s enrollment, then asks the admin list (a projection, which may lag) until
 * the user shows up: milliseconds from the 201 to the first list that has them.
 */
async function adminListLag(
  url: string,
  credentials: { readonly webKey: string; readonly adminKey: string },
  userId: string,
): Promise<number> {
  const started = await fetch(`${url}/v1/users/${userId}/two-factor/enrollment`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credentials.webKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ accountName: `${userId}@example.com` }),
  });
  if (started.status !== 201) throw new Error(`enrollment of ${userId} answered ${started.status}`);
  const acknowledged = performance.now();
  for (;;) {
    const listed = await fetch(`${url}/v1/admin/users?status=pending&limit=5`, {
      headers: { authorization: `Bearer ${credentials.adminKey}`, 'x-actor-id': 'bench' },
    });
    const page = (await listed.json()) as { users: { userId: string }[] };
    if (page.users.some((user) => user.userId === userId)) return performance.now() - acknowledged;
    if (performance.now() - acknowledged > 30_000) throw new Error(`${userId} not listed in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function describe(result: LoadResult): string {
  const codes = Object.entries(result.statuses)
    .map(([code, count]) => `${count} x ${code}`)
    .join(', ');
  return `${result.total} answers (${codes || 'none'}), ${result.errors} errors`;
}
