import { join } from 'node:path';
import { sideBySide } from './sideBySide.ts';
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

/**
 * Targets 1, 2, 3 and the memory half of 8: the service (src/main.ts, the production entry
 * point with request logging and metrics) and a bare Fastify server, each in its own process
 * on 127.0.0.1, loaded in turn by autocannon with the same requests on the same connections.
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

  const dataDir = join(options.workDir, 'http');
  const credentials = benchCredentials();
  const seedStarted = performance.now();
  const { readerUsers, signInUsers, guardUsers } = await seedInMemoryThenCopy(dataDir, async (scratch) => {
    const seeding = seedingService({ dataDir: scratch, encryptionKeys: credentials.encryptionKeys });
    try {
      return {
        readerUsers: await enrollUsers(seeding.service, { prefix: 'reader', count: readers }),
        signInUsers: await enrollUsers(seeding.service, {
          prefix: 'signer',
          count: signInRounds * signInsPerRound,
        }),
        guardUsers: await enrollUsers(seeding.service, { prefix: 'guarded', count: guardSignIns }),
      };
    } finally {
      await seeding.close();
    }
  });
  process.stdout.write(
    `seeded ${readers + signInRounds * signInsPerRound + guardSignIns} enrolled users in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n`,
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
  try {
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
    const cpu = { bare: { seconds: 0, answers: 0 }, service: { seconds: 0, answers: 0 } };
    const metered = async (which: 'bare' | 'service', child: Child, run: () => Promise<LoadResult>) => {
      const before = child.cpuSeconds();
      const result = await run();
      cpu[which].seconds += child.cpuSeconds() - before;
      cpu[which].answers += result.total;
      return result;
    };
    const cpuReport = (what: string) => {
      const perAnswer = (m: { seconds: number; answers: number }) =>
        (1e6 * m.seconds) / Math.max(1, m.answers);
      process.stdout.write(
        `  CPU per ${what}: service ${perAnswer(cpu.service).toFixed(0)} us, bare Fastify ${perAnswer(cpu.bare).toFixed(0)} us\n`,
      );
      const perAnswerService = perAnswer(cpu.service);
      cpu.bare = { seconds: 0, answers: 0 };
      cpu.service = { seconds: 0, answers: 0 };
      return perAnswerService;
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
    const readCpuUs = cpuReport('status read');
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

    let round = 0;
    const signs = await sideBySide({
      name: 'sign-ins (valid TOTP, one per user)',
      rounds: signInRounds,
      baselineLabel: 'bare Fastify',
      candidateLabel: 'service',
      // The bare route answers anything: it gets this round's requests several times over, so
      // that it runs about as long as the service does.
      baseline: () => {
        const users = signInUsers.slice(round * signInsPerRound, (round + 1) * signInsPerRound);
        return metered('bare', bare, () =>
          httpLoad({
            url: bare.url,
            connections: CONNECTIONS,
            next: cycle(signIns(users)),
            amount: signInsPerRound * 4,
          }),
        ).then(checked('bare sign-ins'));
      },
      candidate: () => {
        const users = signInUsers.slice(round * signInsPerRound, (round + 1) * signInsPerRound);
        round += 1;
        return metered('service', svc, () =>
          httpLoad({
            url: svc.url,
            connections: CONNECTIONS,
            next: cycle(signIns(users)),
            amount: users.length,
          }),
        ).then(checked('service sign-ins'));
      },
    });
    const signInCpuUs = cpuReport('sign-in');
    results.push({
      name: '3. sign-ins (fsync) vs bare Fastify',
      value: signs.candidate,
      baseline: signs.baseline,
      ratio: signs.ratio,
      target: '>= 0.5x',
      ok: signs.ratio >= 0.5,
      unit: 'req/s',
      note: `the service used ${signInCpuUs.toFixed(0)} us of CPU per sign-in (its projections included)`,
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
    await bare.stop();
  }
  if (failures.length > 0) {
    process.stdout.write(`unexpected answers:\n  ${failures.join('\n  ')}\n`);
    for (const result of results.splice(1))
      results.push({ ...result, ok: false, note: 'unexpected answers (see above)' });
  }
  return results;
}

function describe(result: LoadResult): string {
  const codes = Object.entries(result.statuses)
    .map(([code, count]) => `${count} x ${code}`)
    .join(', ');
  return `${result.total} answers (${codes || 'none'}), ${result.errors} errors`;
}
