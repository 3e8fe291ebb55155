import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { type CliRun, ndjson, runTwofactor } from '../support/cliProcess.ts';
import { overwriteByteIn } from '../support/fileBytes.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';

const recorded = recordedDataDirs('cli-audit');
const { stoppedService } = recorded;
/** Everything no output may contain: secrets, codes, recovery codes, sealed secrets, digests, keys. */
let forbidden: string[];

/** The sensitive values as stored: sealed TOTP secrets and recovery-code salts and digests. */
function storedSensitiveValues(dataDir: string): string[] {
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
  try {
    const values: string[] = [];
    for (const { data } of db.prepare<[], { data: string }>('SELECT data FROM events').all()) {
      const parsed = JSON.parse(data);
      if (parsed.secret) values.push(parsed.secret.ciphertext, parsed.secret.nonce, parsed.secret.tag);
      if (parsed.recoveryCodes) values.push(parsed.recoveryCodes.salt, ...parsed.recoveryCodes.digests);
    }
    return values;
  } finally {
    db.close();
  }
}

beforeAll(() => {
  const env = serviceEnvironment(recorded.template);
  forbidden = [
    ...recorded.history.secrets,
    ...storedSensitiveValues(recorded.template),
    env.SECRET_ENCRYPTION_KEYS!.split(':')[1]!,
    ...env.API_KEYS!.split(',').map((pair) => pair.split(':')[1]!),
  ];
  expect(forbidden.length).toBeGreaterThan(20);
});

function expectNoSecretIn(run: CliRun) {
  for (const value of forbidden) {
    expect(run.stdout).not.toContain(value);
    expect(run.stderr).not.toContain(value);
  }
}

describe('twofactor audit events', () => {
  it("exports one user's complete history as NDJSON, every attempt included, with no secret", async () => {
    const { env } = await stoppedService();
    const run = await runTwofactor(['audit', 'events', '--user', 'ada'], env);

    expect(run.code, run.stderr).toBe(0);
    const records = ndjson(run.stdout);
    expect(records.map((r) => r.type)).toEqual([
      'EnrollmentStarted',
      'TwoFactorEnabled',
      'SignInVerified',
      'VerificationFailed',
      'RecoveryCodeConsumed',
      'SignInVerified',
    ]);
    for (const record of records) {
      expect(record).toMatchObject({
        userId: 'ada',
        actor: { role: 'web', id: 'ada' },
        endUserIp: '203.0.113.7',
        endUserAgent: 'Firefox/140',
        correlationId: expect.any(String),
      });
    }
    const positions = records.map((r) => BigInt(r.position));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expectNoSecretIn(run);
  });

  it('writes NDJSON when stdout is not a terminal, and a table when asked', async () => {
    const { env } = await stoppedService();
    const all = await runTwofactor(['audit', 'events'], env);
    expect(all.code, all.stderr).toBe(0);
    const records = ndjson(all.stdout);
    expect(new Set(records.map((r) => r.userId))).toEqual(new Set(['ada', 'bob']));

    const table = await runTwofactor(['audit', 'events', '--user', 'bob', '--format', 'table'], env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^\s*POSITION\s+RECORDED AT\s+USER\s+TYPE\s+ACTOR\s+FROM\s+CORRELATION\s+DETAILS$/,
    );
    expect(lines).toHaveLength(1 + records.filter((r) => r.userId === 'bob').length);
    expect(lines.some((line) => /FactorLocked .*lockedUntil=null/.test(line))).toBe(true);
    expectNoSecretIn(table);
  });

  it('filters by recording time and resumes after a position', async () => {
    const { env } = await stoppedService();
    const all = ndjson((await runTwofactor(['audit', 'events'], env)).stdout);
    const middle = all[Math.floor(all.length / 2)];

    const since = ndjson((await runTwofactor(['audit', 'events', '--since', middle.recordedAt], env)).stdout);
    expect(since).toEqual(all.filter((r) => r.recordedAt >= middle.recordedAt));
    const until = ndjson((await runTwofactor(['audit', 'events', '--until', middle.recordedAt], env)).stdout);
    expect(until).toEqual(all.filter((r) => r.recordedAt < middle.recordedAt));
    const after = ndjson((await runTwofactor(['audit', 'events', '--after', middle.position], env)).stdout);
    expect(after).toEqual(all.filter((r) => BigInt(r.position) > BigInt(middle.position)));
    const limited = ndjson((await runTwofactor(['audit', 'events', '--limit', '3'], env)).stdout);
    expect(limited).toEqual(all.slice(0, 3));
  });

  it('refuses a time that is not ISO 8601 with a usage error', async () => {
    const { env } = await stoppedService();
    const run = await runTwofactor(['audit', 'events', '--since', 'last tuesday'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--since <time>.*ISO 8601/);
    expect(run.stdout).toBe('');
  });
});

describe('twofactor audit state', () => {
  it("shows a user's status document as it stood at two moments", async () => {
    const { env } = await stoppedService();
    const at = (ms: number) => new Date(ms).toISOString();

    const before = await runTwofactor(
      ['audit', 'state', 'ada', '--at', at(recorded.history.beforeEnrollmentMs)],
      env,
    );
    const after = await runTwofactor(
      ['audit', 'state', 'ada', '--at', at(recorded.history.afterSignInMs)],
      env,
    );

    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ userId: 'ada', status: 'disabled', enabledAt: null });
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({
      userId: 'ada',
      status: 'enabled',
      enabledAt: expect.any(String),
      recoveryCodesRemaining: 9,
      authenticators: 1,
      locked: false,
      lockedUntil: null,
      recoveryCodesLocked: false,
      recoveryCodesLockedUntil: null,
      required: false,
      enrollmentRequired: false,
      enrollBy: null,
      canDefer: false,
      canDisable: true,
    });
  });

  it('needs --at, and a valid user id', async () => {
    const { env } = await stoppedService();
    const missing = await runTwofactor(['audit', 'state', 'ada'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--at <time>/);
    const badUser = await runTwofactor(['audit', 'state', 'ada smith', '--at', '2026-01-15T09:00:00Z'], env);
    expect(badUser.code).toBe(2);
    expect(badUser.stderr).toMatch(/1–128 characters/);
  });
});

describe('twofactor audit verify', () => {
  it('proves an intact log (exit 0) and names the stream and revision of a flipped byte (exit 3)', async () => {
    const { dataDir, env } = await stoppedService();
    const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
    const { events, streams } = db
      .prepare<[], { events: number; streams: number }>(
        'SELECT COUNT(*) AS events, COUNT(DISTINCT stream_name) AS streams FROM events',
      )
      .get()!;
    // A SignInVerified of ada: its method is stored as "totp" exactly once per such event.
    const target = db
      .prepare<[], { revision: number; position: number; data: string }>(
        "SELECT revision, position, data FROM events WHERE stream_name = 'two-factor-ada' AND type = 'SignInVerified' ORDER BY revision LIMIT 1",
      )
      .get()!;
    db.close();

    const intact = await runTwofactor(['audit', 'verify'], env);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toBe(`ok: ${events} events in ${streams} streams verified\n`);

    // The service is stopped: edit the file itself, one digit of the TOTP step, keeping it valid JSON.
    const stepAt = target.data.indexOf('"step":') + '"step":'.length;
    const digit = target.data[stepAt] === '1' ? '2' : '1';
    expect(overwriteByteIn(join(dataDir, 'events.sqlite'), target.data, stepAt, digit)).toBeGreaterThan(0);

    const broken = await runTwofactor(['audit', 'verify'], env);
    expect(broken.code).toBe(3);
    expect(broken.stdout).toContain(
      `broken: stream two-factor-ada, revision ${target.revision}, position ${target.position}\n`,
    );
    expect(broken.stdout).toMatch(/reason: hash mismatch/);
    expectNoSecretIn(intact);
    expectNoSecretIn(broken);
  });

  it('reports an event that is no longer JSON as broken (exit 3), without quoting its bytes', async () => {
    const { dataDir, env } = await stoppedService();
    const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
    const target = db
      .prepare<[], { data: string }>(
        "SELECT data FROM events WHERE stream_name = 'two-factor-ada' AND type = 'TwoFactorEnabled'",
      )
      .get()!;
    db.close();
    // Right before the sealed secret: a JSON parser's message would quote what follows.
    const quoteAt = target.data.indexOf('"ciphertext":"') + '"ciphertext":'.length;
    expect(overwriteByteIn(join(dataDir, 'events.sqlite'), target.data, quoteAt, "'")).toBeGreaterThan(0);

    const run = await runTwofactor(['audit', 'verify'], env);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      /^broken: the event after position \d+ cannot be read \(its data or metadata is not valid JSON\)\n$/,
    );
    expectNoSecretIn(run);

    const events = await runTwofactor(['audit', 'events', '--user', 'ada'], env);
    expect(events.code).toBe(1);
    expect(events.stderr).toMatch(/not valid JSON; run `twofactor audit verify`/);
    expectNoSecretIn(events);
  });
});
