import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwoFactorService, type TwoFactorService } from '../../src/application/twoFactorService.ts';
import { formatApiKeys } from '../../src/config/apiKeys.ts';
import { formatEncryptionKeys } from '../../src/config/encryptionKeys.ts';
import { createRecoveryCodeHasher } from '../../src/crypto/recoveryCodeHasher.ts';
import type { EncryptionKey } from '../../src/crypto/secretBox.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { DigestParameters } from '../../src/domain/twoFactor/recoveryCodes.ts';
import { totpCodeForStep } from '../../src/domain/twoFactor/totp.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { openSqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.ts';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { createUserKeys } from '../../src/keys/userKeys.ts';
import { openSqliteSnapshotStore } from '../../src/snapshots/sqliteSnapshotStore.ts';

/** Argon2id at its smallest cost, for seeding users whose recovery codes a benchmark never checks. */
export const CHEAP_DIGEST: DigestParameters = {
  algorithm: 'argon2id',
  memoryCost: 8,
  timeCost: 1,
  parallelism: 1,
  outputLength: 32,
};

export const SEED_META: CommandMetadata = {
  correlationId: 'bench-seed',
  causationId: 'bench-seed',
  actor: { role: 'web', id: null },
};

/** Keys for one benchmark run, and the environment that hands them to the service. */
export function benchCredentials() {
  const encryptionKeys: EncryptionKey[] = [{ id: 'bench', key: randomBytes(32) }];
  const webKey = `web-${randomBytes(16).toString('hex')}`;
  const adminKey = `admin-${randomBytes(16).toString('hex')}`;
  const env = {
    API_KEYS: formatApiKeys([
      { role: 'web', key: webKey },
      { role: 'admin', key: adminKey },
    ]),
    SECRET_ENCRYPTION_KEYS: formatEncryptionKeys(encryptionKeys),
  };
  return { encryptionKeys, webKey, adminKey, env };
}

/** What the web API forwards of its end user on a sign-in; recorded in the event's metadata. */
export const END_USER = {
  ip: '203.0.113.7',
  agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
};

/** A sign-in's metadata as the HTTP layer builds it: the request id, the web role, the end user. */
export const signInMeta = (): CommandMetadata => {
  const requestId = randomUUID();
  return {
    correlationId: requestId,
    causationId: requestId,
    actor: { role: 'web', id: null },
    endUserIp: END_USER.ip,
    endUserAgent: END_USER.agent,
  };
};

export type SeededUser = {
  readonly userId: string;
  readonly secret: string;
  readonly recoveryCodes: string[];
};

/** The code an authenticator shows now for `secret`. */
export const currentCode = (secret: string, nowMs = Date.now()) =>
  totpCodeForStep(secret, Math.floor(nowMs / 30_000));

export function seedingService(input: {
  readonly dataDir: string;
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly digestParameters?: DigestParameters;
  readonly clock?: () => number;
}): { service: TwoFactorService; store: EventStore; close(): Promise<void> } {
  const store = openSqliteEventStore({ dataDir: input.dataDir });
  const snapshots = openSqliteSnapshotStore(input.dataDir);
  const keyStore = openSqliteKeyStore(input.dataDir);
  const service = createTwoFactorService({
    store,
    snapshots,
    keys: createUserKeys(keyStore, input.encryptionKeys),
    hasher: createRecoveryCodeHasher(input.digestParameters ?? CHEAP_DIGEST),
    // A minute in the past: the confirming code's step is then older than any code of now,
    // so every seeded user can sign in at once with the current code.
    clock: input.clock ?? (() => Date.now() - 60_000),
    issuer: 'bench',
  });
  return {
    service,
    store,
    async close() {
      await store.close();
      await keyStore.close();
      snapshots.close();
    },
  };
}

/**
 * Enrolls `count` users through the service itself (so their events are exactly what it
 * writes), many at once so that group commit keeps the seeding quick.
 */
export async function enrollUsers(
  service: TwoFactorService,
  input: { readonly prefix: string; readonly count: number; readonly clock?: () => number },
): Promise<SeededUser[]> {
  const clock = input.clock ?? (() => Date.now() - 60_000);
  const users: SeededUser[] = [];
  const concurrency = 256;
  for (let from = 0; from < input.count; from += concurrency) {
    const batch = Array.from(
      { length: Math.min(concurrency, input.count - from) },
      (_, i) => `${input.prefix}-${from + i}`,
    );
    users.push(
      ...(await Promise.all(
        batch.map(async (userId) => {
          const started = await service.startEnrollment(
            userId,
            { accountName: userId, proof: null },
            SEED_META,
          );
          const confirmed = await service.confirmEnrollment(
            userId,
            currentCode(started.secret, clock()),
            SEED_META,
          );
          return { userId, secret: started.secret, recoveryCodes: [...confirmed.recoveryCodes] };
        }),
      )),
    );
  }
  return users;
}

/**
 * Runs `seed` against a fresh store in memory-backed /dev/shm (where fsync costs nothing),
 * then copies the closed files into `dataDir`: the measured store is on disk, as deployed,
 * but filling it does not take minutes of fsyncs.
 */
export async function seedInMemoryThenCopy<T>(
  dataDir: string,
  seed: (scratchDir: string) => Promise<T>,
): Promise<T> {
  const scratch = existsSync('/dev/shm')
    ? mkdtempSync('/dev/shm/bench-seed-')
    : mkdtempSync(join(tmpdir(), 'bench-seed-'));
  try {
    const result = await seed(scratch);
    mkdirSync(dataDir, { recursive: true });
    for (const file of readdirSync(scratch)) cpSync(join(scratch, file), join(dataDir, file));
    return result;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
