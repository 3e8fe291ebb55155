import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../../src/audit/hashChain.ts';
import { linkedMetadata, linkOf, withLink } from '../../src/audit/storedMetadata.ts';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';

/*
 * `audit verify --save-heads / --against` against the embedded store, tampered with as
 * someone with write access to the SQLite file would: plain SQL, no event store code, and
 * for the rewrite every hash recomputed so that the chain alone cannot tell.
 */

const recorded = recordedDataDirs('cli-heads');
const { dirs } = recorded;

async function stoppedService() {
  // The heads files live outside DATA_DIR, as they would on a ticket or a WORM bucket.
  return { ...(await recorded.stoppedService()), outside: await dirs.make() };
}

function withDatabase<T>(dataDir: string, use: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'events.sqlite'));
  try {
    return use(db);
  } finally {
    db.close();
  }
}

type Head = { revision: string; hash: string };

/** Every stream's last revision and hash, and the last position, read with SQL alone. */
const headsInDatabase = (dataDir: string) =>
  withDatabase(dataDir, (db) => {
    const rows = db
      .prepare<[], { stream_name: string; revision: number; metadata: string }>(
        `SELECT stream_name, revision, metadata FROM events e
         WHERE revision = (SELECT MAX(revision) FROM events WHERE stream_name = e.stream_name)`,
      )
      .all();
    const { position } = db
      .prepare<[], { position: number }>('SELECT MAX(position) AS position FROM events')
      .get()!;
    const streams: Record<string, Head> = {};
    for (const row of rows) {
      streams[row.stream_name] = { revision: String(row.revision), hash: linkOf(JSON.parse(row.metadata))! };
    }
    return { position: String(position), streams };
  });

const lastRevisionOf = (dataDir: string, streamName: string) =>
  withDatabase(
    dataDir,
    (db) =>
      db
        .prepare<[string], { revision: number }>(
          'SELECT MAX(revision) AS revision FROM events WHERE stream_name = ?',
        )
        .get(streamName)!.revision,
  );

type EventRow = { revision: number; type: string; data: string; metadata: string };

/**
 * What a forger with the hash function (and the stored format) would do: change the data of
 * one event and store every event of the stream from there on with its hash recomputed, so
 * each link holds.
 */
function rewriteStream(
  dataDir: string,
  streamName: string,
  pick: (row: EventRow) => boolean,
  edit: (data: Record<string, unknown>) => Record<string, unknown>,
): number {
  return withDatabase(dataDir, (db) => {
    const rows = db
      .prepare<[string], EventRow>(
        'SELECT revision, type, data, metadata FROM events WHERE stream_name = ? ORDER BY revision',
      )
      .all(streamName);
    const from = rows.findIndex(pick);
    expect(from).not.toBe(-1);
    let previousHash = from === 0 ? GENESIS_HASH : linkOf(JSON.parse(rows[from - 1]!.metadata))!;
    const update = db.prepare(
      'UPDATE events SET data = ?, metadata = ? WHERE stream_name = ? AND revision = ?',
    );
    for (const row of rows.slice(from)) {
      const data = row.revision === rows[from]!.revision ? edit(JSON.parse(row.data)) : JSON.parse(row.data);
      const metadata = linkedMetadata(JSON.parse(row.metadata));
      const hash = chainHash({
        previousHash,
        streamName,
        revision: BigInt(row.revision),
        type: row.type,
        data,
        metadata,
      });
      update.run(JSON.stringify(data), JSON.stringify(withLink(metadata, hash)), streamName, row.revision);
      previousHash = hash;
    }
    return rows[from]!.revision;
  });
}

const verify = (env: Record<string, string>, ...options: string[]) =>
  runTwofactor(['audit', 'verify', ...options], env);

/** Saves the heads of an untouched copy and checks the plain chain still holds after `tamper`. */
async function tamperedAfterSaving(tamper: (dataDir: string) => void) {
  const service = await stoppedService();
  const heads = join(service.outside, 'heads.json');
  const saved = await verify(service.env, '--save-heads', heads);
  expect(saved.code, saved.stderr).toBe(0);
  tamper(service.dataDir);
  const plain = await verify(service.env);
  // The point of anchors: the chain alone still calls this history intact.
  expect(plain.code, plain.stdout).toBe(0);
  expect(plain.stdout).toMatch(/^ok: \d+ events in \d+ streams verified\n$/);
  return { ...service, heads };
}

describe('twofactor audit verify --save-heads / --against', () => {
  it('saves the heads of a clean log (names, revisions, hashes only; mode 0600), which it then verifies against', async () => {
    const { dataDir, env, outside } = await stoppedService();
    const heads = join(outside, 'heads.json');
    const before = Date.now();
    const saved = await verify(env, '--save-heads', heads);

    expect(saved.code, saved.stderr).toBe(0);
    const expected = headsInDatabase(dataDir);
    const count = Object.keys(expected.streams).length;
    expect(count).toBeGreaterThanOrEqual(2);
    expect(saved.stdout).toMatch(
      new RegExp(
        `^ok: \\d+ events in ${count} streams verified\\nsaved: the heads of ${count} streams at position ${expected.position} to `,
      ),
    );
    expect(statSync(heads).mode & 0o777).toBe(0o600);
    const document = JSON.parse(readFileSync(heads, 'utf8'));
    expect(document).toEqual({ format: 'two-factor-heads/1', takenAt: expect.any(String), ...expected });
    expect(Date.parse(document.takenAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(document.takenAt)).toBeLessThanOrEqual(Date.now());

    const checked = await verify(env, '--against', heads);
    expect(checked.code, checked.stdout).toBe(0);
    expect(checked.stdout).toMatch(
      new RegExp(
        `\\nok: all ${count} streams of the heads taken at ${document.takenAt} \\(position ${expected.position}\\) hold`,
      ),
    );
  });

  it('fails --against (exit 3), naming the stream and revision, when the last event of a stream was deleted', async () => {
    let anchored = 0;
    const { env, heads } = await tamperedAfterSaving((dataDir) => {
      anchored = lastRevisionOf(dataDir, 'two-factor-bob');
      withDatabase(dataDir, (db) =>
        db
          .prepare('DELETE FROM events WHERE stream_name = ? AND revision = ?')
          .run('two-factor-bob', anchored),
      );
    });
    const run = await verify(env, '--against', heads);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      new RegExp(`^broken: stream two-factor-bob, revision ${anchored}, against the heads`),
    );
    expect(run.stdout).toContain(
      `reason: the stream ends at revision ${anchored - 1}, but had reached revision ${anchored}`,
    );
  });

  it('fails --against (exit 3) when a whole stream was deleted', async () => {
    let anchored = 0;
    const { env, heads } = await tamperedAfterSaving((dataDir) => {
      anchored = lastRevisionOf(dataDir, 'two-factor-ada');
      withDatabase(dataDir, (db) =>
        db.prepare('DELETE FROM events WHERE stream_name = ?').run('two-factor-ada'),
      );
    });
    const run = await verify(env, '--against', heads);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      new RegExp(`^broken: stream two-factor-ada, revision ${anchored}, against the heads`),
    );
    expect(run.stdout).toContain('reason: the stream is gone');
  });

  it('fails --against (exit 3) when a stream was rewritten and every hash after the edit recomputed', async () => {
    let anchored = 0;
    const { env, heads } = await tamperedAfterSaving((dataDir) => {
      anchored = lastRevisionOf(dataDir, 'two-factor-bob');
      // Hiding the attack: the first failed attempt now claims a harmless count.
      rewriteStream(
        dataDir,
        'two-factor-bob',
        (row) => row.type === 'VerificationFailed',
        (data) => ({ ...data, consecutiveFailures: 0 }),
      );
    });
    const run = await verify(env, '--against', heads);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      new RegExp(`^broken: stream two-factor-bob, revision ${anchored}, against the heads`),
    );
    expect(run.stdout).toMatch(/reason: the event at revision \d+ no longer carries the hash .* rewritten/);
    expect(run.stdout).toMatch(/the chain itself is intact/);
  });

  it('passes --against after new events were appended, and saves the new heads in the same run', async () => {
    const { dataDir, env, outside } = await stoppedService();
    const yesterday = join(outside, 'yesterday.json');
    const today = join(outside, 'today.json');
    expect((await verify(env, '--save-heads', yesterday)).code).toBe(0);
    // One more event in an anchored stream, and a stream that did not exist.
    expect((await runTwofactor(['admin', 'unlock', 'bob', '--actor', 'root'], env)).code).toBe(0);
    expect(
      (await runTwofactor(['admin', 'reset', 'carol', '--reason', 'test', '--actor', 'root'], env)).code,
    ).toBe(0);

    const run = await verify(env, '--against', yesterday, '--save-heads', today);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /\nok: all \d+ streams of the heads taken at .* hold their anchored revisions/,
    );
    const before = JSON.parse(readFileSync(yesterday, 'utf8'));
    const after = JSON.parse(readFileSync(today, 'utf8'));
    expect(after).toMatchObject(headsInDatabase(dataDir));
    expect(Number(after.streams['two-factor-bob'].revision)).toBe(
      Number(before.streams['two-factor-bob'].revision) + 1,
    );
    expect(before.streams['two-factor-carol']).toBeUndefined();
    expect(after.streams['two-factor-carol']).toBeDefined();
  });

  it('saves nothing when the chain is broken or the saved heads do not hold', async () => {
    const { env, heads } = await tamperedAfterSaving((dataDir) => {
      withDatabase(dataDir, (db) =>
        db.prepare("DELETE FROM events WHERE stream_name = 'two-factor-ada'").run(),
      );
    });
    const failedAnchors = join(heads, '..', 'after-failed-anchors.json');
    const anchors = await verify(env, '--against', heads, '--save-heads', failedAnchors);
    expect(anchors.code).toBe(3);
    expect(anchors.stderr).toContain('heads not saved');
    expect(existsSync(failedAnchors)).toBe(false);

    const broken = await stoppedService();
    withDatabase(broken.dataDir, (db) =>
      db.prepare("DELETE FROM events WHERE stream_name = 'two-factor-bob' AND revision = 1").run(),
    );
    const failedChain = join(broken.outside, 'after-broken-chain.json');
    const chain = await verify(broken.env, '--save-heads', failedChain);
    expect(chain.code).toBe(3);
    expect(chain.stdout).toMatch(/^broken: stream two-factor-bob, revision 2,/);
    expect(existsSync(failedChain)).toBe(false);
  });

  it('refuses to overwrite a heads file (exit 1, before walking) unless --force, which leaves it mode 0600', async () => {
    const { env, outside } = await stoppedService();
    const heads = join(outside, 'heads.json');
    writeFileSync(heads, 'the heads of last year\n');
    chmodSync(heads, 0o644);

    const refused = await verify(env, '--save-heads', heads);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to overwrite .*heads\.json: it exists \(add --force/);
    expect(refused.stdout).toBe('');
    expect(readFileSync(heads, 'utf8')).toBe('the heads of last year\n');

    const forced = await verify(env, '--save-heads', heads, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(heads, 'utf8')).format).toBe('two-factor-heads/1');
    expect(statSync(heads).mode & 0o777).toBe(0o600);
  });

  it('refuses an unreadable or malformed heads file (exit 2) before opening any store, without quoting it', async () => {
    // No event store here at all: were the store opened first, this would be exit 1.
    const env = serviceEnvironment(await dirs.make());
    const outside = await dirs.make();
    const missing = await verify(env, '--against', join(outside, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the heads file .*nope\.json \(ENOENT\)/);

    const notJson = join(outside, 'keys.txt');
    writeFileSync(notJson, 'SECRET_ENCRYPTION_KEYS=k1:c2VjcmV0c2VjcmV0');
    const malformed = await verify(env, '--against', notJson);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/keys\.txt is not a heads document: it is not JSON/);
    expect(malformed.stderr).not.toContain('c2VjcmV0');

    const wrongHash = join(outside, 'heads.json');
    writeFileSync(
      wrongHash,
      JSON.stringify({
        format: 'two-factor-heads/1',
        takenAt: '2026-01-31T12:00:00Z',
        position: '3',
        streams: { s: { revision: '1', hash: 'x' } },
      }),
    );
    const invalid = await verify(env, '--against', wrongHash);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/streams\["s"\]\.hash must be 64 lowercase hexadecimal digits/);
    for (const run of [missing, malformed, invalid]) expect(run.stdout).toBe('');
    expect(existsSync(join(env.DATA_DIR!, 'events.sqlite'))).toBe(false);
  });

  it('explains in --help where to keep the heads file', async () => {
    const run = await runTwofactor(['audit', 'verify', '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--against <file>/);
    expect(run.stdout).toMatch(/--save-heads <file>/);
    expect(run.stdout.replace(/\s+/g, ' ')).toContain(
      "Keep the heads file somewhere the store's administrators cannot write (e.g. a ticket, a WORM bucket)",
    );
  });

  it('takes --force only with --save-heads', async () => {
    const run = await verify(serviceEnvironment(await dirs.make()), '--force');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--force only applies to --save-heads');
  });
});
