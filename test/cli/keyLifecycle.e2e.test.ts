import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createTwoFactorService } from '../../src/application/twoFactorService.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createPepperRing } from '../../src/crypto/pepper.ts';
import { createRecoveryCodeHasher } from '../../src/crypto/recoveryCodeHasher.ts';
import { openSecret, sealSecret } from '../../src/crypto/secretBox.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { EncryptedSecret } from '../../src/domain/twoFactor/encryptedSecret.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { createUserKeys, DataKeyErasedError, type UserKeys } from '../../src/keys/userKeys.ts';
import { openSqliteSnapshotStore } from '../../src/snapshots/sqliteSnapshotStore.ts';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { ndjson, runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';
import { codeAt, startTestService, TEST_DIGEST_PARAMETERS, testClock } from '../support/testService.ts';

/*
 * The two questions a security engineer asks of the keys, each answered by one command, as
 * the README shows them: "we rotated the key; is the old one still needed?" and "this user
 * asked to be erased; prove it". The commands run as child processes over a stopped
 * service's DATA_DIR; sign-ins go through the real HTTP service over a socket.
 */

const recorded = recordedDataDirs('cli-key-lifecycle'); // ada and bob, under data keys wrapped by k1

const k2 = `k2:${randomBytes(32).toString('base64')}`;

const k1Of = (dataDir: string) => serviceEnvironment(dataDir).SECRET_ENCRYPTION_KEYS!;

type KeyRow = { keyId: string; dataKeys: number; removable: boolean; configured: boolean };
const keyRow = (status: { keys: KeyRow[] }, keyId: string) => status.keys.find((k) => k.keyId === keyId);

describe('we rotated the key; is the old one still needed?', () => {
  it('keys rotate re-wraps every data key under k2; keys status says k1 is removable; without k1 ada still signs in', async () => {
    const { dataDir } = await recorded.stoppedService();
    const both = { ...serviceEnvironment(dataDir), SECRET_ENCRYPTION_KEYS: `${k2},${k1Of(dataDir)}` };

    const before = await runTwofactor(['keys', 'status', '--json'], both);
    expect(before.code).toBe(0);
    expect(keyRow(JSON.parse(before.stdout), 'k1')).toMatchObject({ dataKeys: 2, removable: false });

    const rotated = await runTwofactor(['keys', 'rotate'], both);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toBe('2 data keys examined, 2 re-wrapped under k2\n');

    // The answer, in one command.
    const after = await runTwofactor(['keys', 'status'], both);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^k1\s+yes\s+0\s+0\s+0\s+0\s+yes$/m);
    expect(after.stdout).toMatch(/^k2\s+yes, seals\s+2\s+0\s+0\s+0\s+no$/m);

    // A second run finds nothing left to do.
    const again = await runTwofactor(['keys', 'rotate'], both);
    expect(again.stdout).toBe('2 data keys examined, 0 re-wrapped under k2\n');

    // k1 taken out of the configuration: nothing needs it, and the service starts and signs in.
    const k2Only = { ...serviceEnvironment(dataDir), SECRET_ENCRYPTION_KEYS: k2 };
    const without = await runTwofactor(['keys', 'status', '--json'], k2Only);
    expect(without.code).toBe(0);
    expect(JSON.parse(without.stdout)).toMatchObject({ usersAffected: 0 });

    const t = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: k2 } });
    try {
      // A day after the recorded history, so ada's codes are new steps.
      t.clock.set(Date.UTC(2026, 0, 20, 12, 0, 0));
      const [adaSecret] = recorded.history.secrets;
      const byCode = await t.call('POST', '/v1/users/ada/two-factor/verify', {
        body: { code: codeAt(adaSecret!, t.clock.now()) },
      });
      expect(byCode.status).toBe(200);
      expect(byCode.json).toMatchObject({ verified: true, method: 'totp' });
      // The recovery codes are peppered with ada's data key: they work without k1 too.
      const unusedRecoveryCode = recorded.history.secrets[3]!;
      const byRecoveryCode = await t.call('POST', '/v1/users/ada/two-factor/verify', {
        body: { recoveryCode: unusedRecoveryCode },
      });
      expect(byRecoveryCode.status).toBe(200);
      expect(byRecoveryCode.json).toMatchObject({ verified: true, method: 'recovery-code' });
    } finally {
      await t.stop();
    }
  });

  it('keys status names k1 as still needed while a data key is not yet re-wrapped, and exits 1 without it', async () => {
    const { dataDir } = await recorded.stoppedService();
    const k2Only = { ...serviceEnvironment(dataDir), SECRET_ENCRYPTION_KEYS: k2 };
    const run = await runTwofactor(['keys', 'status', '--json'], k2Only);
    expect(run.code).toBe(1);
    expect(keyRow(JSON.parse(run.stdout), 'k1')).toMatchObject({
      configured: false,
      dataKeys: 2,
      removable: false,
    });
    // A rotation without k1 cannot unwrap the keys: it says so and changes nothing.
    const rotated = await runTwofactor(['keys', 'rotate'], k2Only);
    expect(rotated.code).toBe(1);
    expect(rotated.stdout).toBe('2 data keys examined, 0 re-wrapped under k2\n');
    expect(rotated.stderr).toContain('2 data keys are wrapped by keys not in SECRET_ENCRYPTION_KEYS');
    const k1 = await runTwofactor(['keys', 'status', '--json'], serviceEnvironment(dataDir));
    expect(keyRow(JSON.parse(k1.stdout), 'k1')).toMatchObject({ dataKeys: 2 });
  });
});

describe('this user asked to be erased; prove it', () => {
  it('admin erase destroys the data key; audit events shows every record erased; nothing under DATA_DIR holds her data', async () => {
    const { dataDir, env } = await recorded.stoppedService();

    const refused = await runTwofactor(['admin', 'erase', 'ada', '--actor', 'root'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--reason');

    const erased = await runTwofactor(
      ['admin', 'erase', 'ada', '--reason', 'erasure request, ticket 5120', '--actor', 'root', '--json'],
      env,
    );
    expect(erased.code).toBe(0);
    expect(JSON.parse(erased.stdout)).toEqual({ status: 'disabled', erased: true, retained: ['userId'] });

    // The proof, in one command: the whole history still there, every personal field erased.
    const audit = await runTwofactor(['audit', 'events', '--user', 'ada'], env);
    expect(audit.code).toBe(0);
    const records = ndjson(audit.stdout);
    expect(records.length).toBeGreaterThan(5);
    expect(records.at(-1)).toMatchObject({ type: 'UserErased', actor: { id: 'root' } });
    for (const record of records.slice(0, -1)) expect(record.personalDataErased).toBe(true);
    for (const text of ['203.0.113.7', 'Firefox/140', 'ada@example.com']) {
      expect(audit.stdout).not.toContain(text);
    }

    // The chain still verifies, and bob is untouched.
    const verified = await runTwofactor(['audit', 'verify'], env);
    expect(verified.code).toBe(0);
    const bob = await runTwofactor(['audit', 'events', '--user', 'bob'], env);
    expect(bob.stdout).toContain('203.0.113.7');

    // No file under DATA_DIR holds her secret or account name in plain text.
    const [adaSecret] = recorded.history.secrets;
    const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) =>
      entry.isFile(),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const bytes = readFileSync(join(file.parentPath, file.name));
      for (const text of [adaSecret!, 'ada@example.com']) expect(bytes.includes(text)).toBe(false);
    }

    // Erasing again is harmless and says the same.
    const twice = await runTwofactor(
      ['admin', 'erase', 'ada', '--reason', 'again', '--actor', 'root', '--json'],
      env,
    );
    expect(twice.code).toBe(0);
  });
});

/**
 * A user enrolled by a build from before data keys: the TOTP secret sealed with the instance
 * key itself, the recovery codes peppered with it. Written through the service with a key
 * ring that behaves as that build did.
 */
async function enrollAsBeforeDataKeys(dataDir: string, userId: string, clock: ReturnType<typeof testClock>) {
  const ring = loadConfig(serviceEnvironment(dataDir)).encryptionKeys!;
  const store = openSqliteEventStore({ dataDir });
  const snapshots = openSqliteSnapshotStore(dataDir);
  const current = createUserKeys(openSqliteKeyStore(dataDir), ring);
  const instanceKeyOnly: UserKeys = {
    ...current,
    forUser: (user) => ({
      ...current.forUser(user),
      seal: async (plaintext) => sealSecret(ring[0]!, plaintext, user),
      peppers: async () => createPepperRing(ring),
    }),
  };
  const service = createTwoFactorService({
    store,
    snapshots,
    keys: instanceKeyOnly,
    hasher: createRecoveryCodeHasher(TEST_DIGEST_PARAMETERS, { peppers: createPepperRing(ring) }),
    clock: clock.now,
    issuer: 'Example',
  });
  const metadata: CommandMetadata = {
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: { role: 'web', id: userId },
  };
  try {
    const started = await service.startEnrollment(
      userId,
      { accountName: `${userId}@example.com`, proof: null },
      metadata,
    );
    const confirmed = await service.confirmEnrollment(userId, codeAt(started.secret, clock.now()), metadata);
    return { secret: started.secret, recoveryCodes: confirmed.recoveryCodes };
  } finally {
    await service.close();
    await store.close();
    await current.store.close();
    snapshots.close();
  }
}

type KeyCounts = KeyRow & { secrets: number; recoveryCodeSets: number };

describe('an erased user’s snapshot', () => {
  it('holds only what no key can open any more', async () => {
    const { dataDir, env } = await recorded.stoppedService();
    // bob's 100 failed attempts are well past the snapshot interval: his state was snapshotted.
    const snapshots = new Database(join(dataDir, 'snapshots.sqlite'), { readonly: true });
    const row = snapshots
      .prepare<[string], { state: string }>('SELECT state FROM snapshots WHERE stream_name = ?')
      .get('two-factor-bob');
    snapshots.close();
    expect(row).toBeDefined();
    const sealed = (JSON.parse(row!.state) as { authenticators: { secret: EncryptedSecret }[] })
      .authenticators[0]!.secret;
    expect(sealed.keyId.startsWith('dk:')).toBe(true);

    const erased = await runTwofactor(
      ['admin', 'erase', 'bob', '--reason', 'erasure request', '--actor', 'root'],
      env,
    );
    expect(erased.code).toBe(0);
    // What no erasure reaches is said: the user id names the stream.
    expect(erased.stdout).toContain('bob: the user id itself stays');
    expect(erased.stdout).toContain('use opaque user ids, not e-mail addresses');
    const ring = loadConfig(env).encryptionKeys!;
    const keys = createUserKeys(openSqliteKeyStore(dataDir), ring);
    try {
      await expect(keys.forUser('bob').open(sealed)).rejects.toBeInstanceOf(DataKeyErasedError);
      for (const { key } of ring) expect(() => openSecret(key, sealed, 'bob')).toThrow();
    } finally {
      await keys.store.close();
    }
  });
});

describe('secrets written before data keys', () => {
  it('keys migrate moves them under the data key; k1 stays needed for older recovery codes until they are regenerated', async () => {
    const { dataDir } = await recorded.stoppedService();
    const lin = await enrollAsBeforeDataKeys(dataDir, 'lin', testClock(Date.UTC(2026, 0, 16, 9, 0, 0)));
    const both = { ...serviceEnvironment(dataDir), SECRET_ENCRYPTION_KEYS: `${k2},${k1Of(dataDir)}` };
    const k1Counts = async () => {
      const run = await runTwofactor(['keys', 'status', '--json'], both);
      expect(run.code).toBe(0);
      return keyRow(JSON.parse(run.stdout), 'k1') as KeyCounts;
    };

    expect(await k1Counts()).toMatchObject({ secrets: 1, recoveryCodeSets: 1, removable: false });
    expect((await runTwofactor(['keys', 'rotate'], both)).code).toBe(0);
    // Rotation re-wraps data keys only: lin's secret and codes still hang off k1 itself.
    expect(await k1Counts()).toMatchObject({
      dataKeys: 0,
      secrets: 1,
      recoveryCodeSets: 1,
      removable: false,
    });

    const refused = await runTwofactor(['keys', 'migrate'], both);
    expect(refused.code).toBe(2);
    const migrated = await runTwofactor(['keys', 'migrate', '--actor', 'root'], both);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toBe('3 users; 1 had secrets sealed again under their data key\n');
    expect(await k1Counts()).toMatchObject({ secrets: 0, recoveryCodeSets: 1, removable: false });
    // Nothing is left to move: a second run seals nothing again.
    const again = await runTwofactor(['keys', 'migrate', '--actor', 'root'], both);
    expect(again.stdout).toBe('3 users; 0 had secrets sealed again under their data key\n');

    const t = await startTestService({
      dataDir,
      env: { SECRET_ENCRYPTION_KEYS: both.SECRET_ENCRYPTION_KEYS! },
    });
    try {
      t.clock.set(Date.UTC(2026, 0, 20, 12, 0, 0));
      // The old codes still work (k1 is configured), and regenerating replaces them.
      const byOldCode = await t.call('POST', '/v1/users/lin/two-factor/verify', {
        body: { recoveryCode: lin.recoveryCodes[0]! },
      });
      expect(byOldCode.status).toBe(200);
      const regenerated = await t.call('POST', '/v1/users/lin/two-factor/recovery-codes', {
        body: { code: codeAt(lin.secret, t.clock.now()) },
      });
      expect(regenerated.status).toBe(200);
    } finally {
      await t.stop();
    }
    expect(await k1Counts()).toMatchObject({ dataKeys: 0, secrets: 0, recoveryCodeSets: 0, removable: true });

    // k1 out of the configuration: lin signs in with her authenticator.
    const t2 = await startTestService({ dataDir, env: { SECRET_ENCRYPTION_KEYS: k2 } });
    try {
      t2.clock.set(Date.UTC(2026, 0, 21, 12, 0, 0));
      const byCode = await t2.call('POST', '/v1/users/lin/two-factor/verify', {
        body: { code: codeAt(lin.secret, t2.clock.now()) },
      });
      expect(byCode.status).toBe(200);
    } finally {
      await t2.stop();
    }
  });
});
