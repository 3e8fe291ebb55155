import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/audit/hashChain.ts';
import { linkedMetadata, linkOf, METADATA_VERSION, withLink } from '../../src/audit/storedMetadata.ts';
import { verifyChain } from '../../src/audit/verifyChain.ts';
import { createRuntime } from '../../src/composition.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { revealAuditRecord, toAuditRecord } from '../../src/projections/auditRecord.ts';
import { personalDataReader } from '../../src/projections/personalData.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { codeAt, KEYS, TEST_DIGEST_PARAMETERS, testClock } from '../support/testService.ts';

/*
 * A log written before event metadata version 2 (`fixtures/metadataV1`, recorded by the
 * build before it: fixtures/recordMetadataV1.ts), carried on by this build: the old events
 * stay byte for byte as they were, new ones are written in version 2 — on the old streams
 * too — and the hash chain, the heads files, the service and the audit read both.
 */

const fixture = join(import.meta.dirname, 'fixtures', 'metadataV1');
const history = JSON.parse(readFileSync(join(fixture, 'history.json'), 'utf8')) as {
  instanceKey: string;
  clockAfterMs: number;
  ada: { secret: string; unusedRecoveryCodes: string[] };
};
const rowsOf = (file: string) =>
  readFileSync(join(fixture, file), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string | number>);
const oldEvents = rowsOf('events.ndjson');

const dirs = tempDirs('metadata-versions');
afterAll(() => dirs.removeAll());

/** A DATA_DIR holding the recorded history as the build before left it. */
async function recordedDataDir(): Promise<string> {
  const dataDir = await dirs.make();
  await openSqliteEventStore({ dataDir }).close();
  await openSqliteKeyStore(dataDir).close();
  const events = new Database(join(dataDir, 'events.sqlite'));
  const insertEvent = events.prepare(
    `INSERT INTO events (id, stream_name, revision, type, data, metadata, recorded_at)
     VALUES (@id, @stream_name, @revision, @type, @data, @metadata, @recorded_at)`,
  );
  events.transaction(() => {
    for (const row of oldEvents) insertEvent.run(row);
  })();
  events.close();
  const keys = new Database(join(dataDir, 'keys.sqlite'));
  const insertKey = keys.prepare(
    `INSERT INTO data_keys (user_id, data_key_id, wrapping_key_id, wrapped, created_at)
     VALUES (@user_id, @data_key_id, @wrapping_key_id, @wrapped, @created_at)`,
  );
  for (const row of rowsOf('keys.ndjson')) insertKey.run(row);
  keys.close();
  return dataDir;
}

const environment = (dataDir: string) => ({
  DATA_DIR: dataDir,
  API_KEYS: `web:${KEYS.web},admin:${KEYS.admin},audit:${KEYS.audit}`,
  SECRET_ENCRYPTION_KEYS: history.instanceKey,
});

const web = (userId: string, requestId: string): CommandMetadata => ({
  correlationId: requestId,
  causationId: requestId,
  actor: { role: 'web', id: userId },
  endUserIp: '198.51.100.23',
  endUserAgent:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
});

/** Goes on with the recorded users through the service as this build writes: version 2 events. */
async function carryOn(dataDir: string): Promise<void> {
  const clock = testClock(history.clockAfterMs + 60_000);
  const runtime = await createRuntime(loadConfig(environment(dataDir)), pino({ level: 'silent' }), {
    clock: clock.now,
    digestParameters: TEST_DIGEST_PARAMETERS,
  });
  const { service } = runtime;
  try {
    const byCode = await service.verify(
      'ada',
      { code: codeAt(history.ada.secret, clock.now()) },
      web('ada', '6a0c8a52-4a8e-4c5c-9e0f-1a2b3c4d5e6f'),
    );
    expect(byCode.verified).toBe(true);
    const byRecoveryCode = await service.verify(
      'ada',
      { recoveryCode: history.ada.unusedRecoveryCodes[0]! },
      web('ada', 'not-a-uuid-request'),
    );
    expect(byRecoveryCode.recoveryCodesRemaining).toBe(8);
    await service.unlock('bob', {
      correlationId: 'u-1',
      causationId: 'u-1',
      actor: { role: 'admin', id: 'root' },
    });
    const started = await service.startEnrollment('cy', { accountName: 'cy', proof: null }, web('cy', 'c-1'));
    await service.confirmEnrollment('cy', codeAt(started.secret, clock.now()), web('cy', 'c-2'));
    await service.changePolicy(false, {
      correlationId: 'p-2',
      causationId: 'p-2',
      actor: { role: 'admin', id: 'root' },
    });
  } finally {
    await runtime.close();
  }
}

async function readLog(dataDir: string): Promise<RecordedEvent[]> {
  const store = openSqliteEventStore({ dataDir });
  try {
    const log: RecordedEvent[] = [];
    for await (const event of store.readAll()) log.push(event);
    return log;
  } finally {
    await store.close();
  }
}

const verify = (dataDir: string, ...options: string[]) =>
  runTwofactor(['audit', 'verify', ...options], environment(dataDir));

describe('a log of both metadata versions', () => {
  it('keeps the old events as they were and writes new ones, on old streams too, in version 2', async () => {
    const dataDir = await recordedDataDir();
    await carryOn(dataDir);

    const log = await readLog(dataDir);
    const old = log.slice(0, oldEvents.length);
    const added = log.slice(oldEvents.length);
    expect(old.map((event) => JSON.stringify(event.metadata))).toEqual(
      oldEvents.map((row) => JSON.stringify(JSON.parse(String(row.metadata)))),
    );
    expect(old.every((event) => event.metadata.v === undefined)).toBe(true);
    expect(added.length).toBeGreaterThanOrEqual(6);
    expect(added.every((event) => event.metadata.v === METADATA_VERSION)).toBe(true);
    expect(new Set(added.map((event) => event.streamName))).toEqual(
      new Set(['two-factor-ada', 'two-factor-bob', 'two-factor-cy', 'policy-instance']),
    );
    // The new events are the smaller ones, for the same facts.
    const oldSignIn = old.find((event) => event.type === 'SignInVerified')!;
    const newSignIn = added.find((event) => event.type === 'SignInVerified')!;
    expect(JSON.stringify(newSignIn.metadata).length).toBeLessThan(
      JSON.stringify(oldSignIn.metadata).length / 2,
    );
  });

  it('verifies the chain across both versions, and anchors taken before the new events still hold', async () => {
    const dataDir = await recordedDataDir();
    const outside = await dirs.make();
    const before = await verify(dataDir, '--save-heads', join(outside, 'before.json'));
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toMatch(new RegExp(`^ok: ${oldEvents.length} events in 3 streams verified\\n`));

    await carryOn(dataDir);

    const verdict = await verifyChain(openSqliteEventStore({ dataDir }));
    expect(verdict).toMatchObject({ ok: true, streams: 4 });
    const after = await verify(
      dataDir,
      '--against',
      join(outside, 'before.json'),
      '--save-heads',
      join(outside, 'after.json'),
    );
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^ok: \d+ events in 4 streams verified\n/);
    const heads = JSON.parse(readFileSync(join(outside, 'after.json'), 'utf8'));
    const log = await readLog(dataDir);
    const lastOfAda = log.filter((event) => event.streamName === 'two-factor-ada').at(-1)!;
    expect(heads.streams['two-factor-ada']).toEqual({
      revision: String(lastOfAda.revision),
      hash: linkOf(lastOfAda.metadata),
    });
    expect(heads.streams['two-factor-ada'].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects an edit of a version 2 event, and a rewrite of a stream across both versions against older heads', async () => {
    const dataDir = await recordedDataDir();
    await carryOn(dataDir);
    const outside = await dirs.make();
    const saved = await verify(dataDir, '--save-heads', join(outside, 'heads.json'));
    expect(saved.code, saved.stderr).toBe(0);
    const db = new Database(join(dataDir, 'events.sqlite'));
    type Row = { revision: number; type: string; data: string; metadata: string };
    const rows = db
      .prepare<[], Row>(
        "SELECT revision, type, data, metadata FROM events WHERE stream_name = 'two-factor-ada' ORDER BY revision",
      )
      .all();
    const firstNew = rows.findIndex((row) => JSON.parse(row.metadata).v === METADATA_VERSION);
    expect(firstNew).toBeGreaterThan(0);
    const update = db.prepare(
      "UPDATE events SET data = ?, metadata = ? WHERE stream_name = 'two-factor-ada' AND revision = ?",
    );
    try {
      // An edit of a version 2 event's data, its own link left as it was: the chain breaks there.
      const edited = rows[firstNew]!;
      update.run(JSON.stringify({ ...JSON.parse(edited.data), step: 1 }), edited.metadata, edited.revision);
      const broken = await verify(dataDir);
      expect(broken.code).toBe(3);
      expect(broken.stdout).toContain(`broken: stream two-factor-ada, revision ${edited.revision}`);

      // A forger rewrites the stream from an old event on, recomputing every link in each
      // event's own version: the chain holds, the heads saved before do not.
      let previousHash = linkOf(JSON.parse(rows[firstNew - 2]!.metadata))!;
      for (const row of rows.slice(firstNew - 1)) {
        const data =
          row.revision === rows[firstNew - 1]!.revision
            ? { ...JSON.parse(row.data), at: '2020-01-01T00:00:00.000Z' }
            : JSON.parse(row.data);
        const metadata = linkedMetadata(JSON.parse(row.metadata));
        const hash = chainHash({
          previousHash,
          streamName: 'two-factor-ada',
          revision: BigInt(row.revision),
          type: row.type,
          data,
          metadata,
        });
        update.run(JSON.stringify(data), JSON.stringify(withLink(metadata, hash)), row.revision);
        previousHash = hash;
      }
    } finally {
      db.close();
    }
    const plain = await verify(dataDir);
    expect(plain.code, plain.stdout).toBe(0);
    const anchored = await verify(dataDir, '--against', join(outside, 'heads.json'));
    expect(anchored.code).toBe(3);
    expect(anchored.stdout).toContain('two-factor-ada');
  });

  it('shows who, from where and which request in the audit, for events of either version', async () => {
    const dataDir = await recordedDataDir();
    await carryOn(dataDir);
    const runtime = await createRuntime(loadConfig(environment(dataDir)), pino({ level: 'silent' }), {
      digestParameters: TEST_DIGEST_PARAMETERS,
    });
    try {
      const read = personalDataReader(runtime.keys);
      const records = [];
      for await (const event of runtime.store.readStream('two-factor-ada')) {
        records.push({
          version: event.metadata.v ?? 1,
          record: await revealAuditRecord(toAuditRecord(event), read),
        });
      }
      const signIns = records.filter(({ record }) => record.type === 'SignInVerified');
      expect(signIns.map(({ version }) => version)).toEqual([1, 1, METADATA_VERSION, METADATA_VERSION]);
      for (const { record } of signIns) {
        expect(record.actor).toEqual({ role: 'web', id: 'ada' });
        expect(record.correlationId).toEqual(expect.any(String));
        expect(record.endUserIp).toMatch(/^(203\.0\.113\.9|198\.51\.100\.23)$/);
        expect(record.endUserAgent).toMatch(/^Mozilla\/5\.0 \(X11; Linux x86_64\)/);
      }
      expect(signIns.slice(2).map(({ record }) => record.correlationId)).toEqual([
        '6a0c8a52-4a8e-4c5c-9e0f-1a2b3c4d5e6f',
        'not-a-uuid-request',
      ]);
    } finally {
      await runtime.close();
    }
  });
});

describe('the recorded history, from when a user had one authenticator app', () => {
  it('reads as authenticator auth_1, "Authenticator app", last used at its recorded sign-in; a second one adds beside it', async () => {
    const dataDir = await recordedDataDir();
    const clock = testClock(history.clockAfterMs + 60_000);
    const runtime = await createRuntime(loadConfig(environment(dataDir)), pino({ level: 'silent' }), {
      clock: clock.now,
      digestParameters: TEST_DIGEST_PARAMETERS,
    });
    const { service } = runtime;
    try {
      const recordedSignIns = oldEvents
        .filter((row) => row.stream_name === 'two-factor-ada' && row.type === 'SignInVerified')
        .map((row) => JSON.parse(String(row.data)) as { at: string; method: string });
      const lastTotpSignIn = recordedSignIns.filter((e) => e.method === 'totp').at(-1)!.at;
      const enabledAt = (await service.peekStatus('ada')).enabledAt;
      expect(await service.authenticators('ada')).toEqual([
        { id: 'auth_1', name: 'Authenticator app', addedAt: enabledAt, lastUsedAt: lastTotpSignIn },
      ]);
      expect((await service.peekStatus('ada')).authenticators).toBe(1);

      const signIn = await service.verify(
        'ada',
        { code: codeAt(history.ada.secret, clock.now()) },
        web('ada', 'r-1'),
      );
      expect(signIn.authenticatorId).toBe('auth_1');
      clock.advance(30_000);
      const added = await service.addAuthenticator(
        'ada',
        {
          name: 'Backup phone',
          accountName: 'ada',
          proof: { code: codeAt(history.ada.secret, clock.now()) },
        },
        web('ada', 'r-2'),
      );
      await service.confirmAuthenticator(
        'ada',
        added.authenticatorId,
        codeAt(added.secret, clock.now()),
        web('ada', 'r-3'),
      );
      expect((await service.authenticators('ada')).map((a) => [a.id, a.name])).toEqual([
        ['auth_1', 'Authenticator app'],
        [added.authenticatorId, 'Backup phone'],
      ]);
      expect(await service.peekStatus('bob')).toMatchObject({ status: 'enabled', authenticators: 1 });
    } finally {
      await runtime.close();
    }
    // The old events are still byte for byte what was recorded.
    const log = await readLog(dataDir);
    for (const row of oldEvents) {
      const stored = log.find((event) => event.id === row.id);
      expect(stored?.type).toBe(row.type);
    }
  });
});
