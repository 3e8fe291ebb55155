import { randomBytes, randomUUID } from 'node:crypto';
import { createTwoFactorService, type TwoFactorService } from '../../src/application/twoFactorService.ts';
import { createRecoveryCodeHasher } from '../../src/crypto/recoveryCodeHasher.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import type { EventStore } from '../../src/eventStore/eventStore.ts';
import { createInMemoryKeyStore } from '../../src/keys/keyStore.ts';
import { createUserKeys, type UserKeys } from '../../src/keys/userKeys.ts';
import { openSqliteSnapshotStore } from '../../src/snapshots/sqliteSnapshotStore.ts';
import { codeAt, TEST_DIGEST_PARAMETERS, testClock } from '../support/testService.ts';

const MINUTE = 60_000;
const STEP = 30_000;

export type HistoryWriter = {
  readonly service: TwoFactorService;
  readonly keys: UserKeys;
  readonly clock: ReturnType<typeof testClock>;
  /** what was shown to users and must never appear in a read model */
  readonly secretsShown: string[];
  close(): void;
};

/** The real command handling over `store`, with cheap argon2 and a test clock. */
export function historyWriter(store: EventStore, dataDir: string): HistoryWriter {
  const snapshots = openSqliteSnapshotStore(dataDir, 'history-snapshots.sqlite');
  const clock = testClock();
  const keys = createUserKeys(createInMemoryKeyStore(), [{ id: 'k1', key: randomBytes(32) }]);
  const service = createTwoFactorService({
    store,
    snapshots,
    keys,
    hasher: createRecoveryCodeHasher(TEST_DIGEST_PARAMETERS),
    clock: clock.now,
    issuer: 'Test',
  });
  return { service, keys, clock, secretsShown: [], close: () => snapshots.close() };
}

export const web = (userId: string, n = 0): CommandMetadata => {
  const id = randomUUID();
  return {
    correlationId: id,
    causationId: id,
    actor: { role: 'web', id: userId },
    endUserIp: `198.51.100.${n % 250}`,
    endUserAgent: `agent/${n}`,
  };
};

export const admin = (): CommandMetadata => {
  const id = randomUUID();
  return { correlationId: id, causationId: id, actor: { role: 'admin', id: 'root@example.com' } };
};

const expectRejected = async (attempt: Promise<unknown>) => {
  try {
    await attempt;
  } catch {
    return;
  }
  throw new Error('expected the command to be refused');
};

/** Enrolls and confirms; returns the secret and the recovery codes. */
async function enable(w: HistoryWriter, userId: string, n: number) {
  const { service, clock } = w;
  const started = await service.startEnrollment(
    userId,
    { accountName: `${userId}@example.com`, proof: null },
    web(userId, n),
  );
  clock.advance(5_000);
  await expectRejected(service.confirmEnrollment(userId, '000000', web(userId, n)));
  const confirmed = await service.confirmEnrollment(
    userId,
    codeAt(started.secret, clock.now()),
    web(userId, n),
  );
  w.secretsShown.push(started.secret, ...confirmed.recoveryCodes);
  clock.advance(STEP);
  return { secret: started.secret, codes: confirmed.recoveryCodes };
}

/**
 * One user's life, one of several shapes chosen by `n`: sign-ins by code and recovery code
 * (down to the last two), regeneration, a replaced authenticator, failures and lockouts,
 * unlock, disable, reset, an enrollment left pending.
 */
export async function lifeOf(w: HistoryWriter, userId: string, n: number): Promise<void> {
  const { service, clock } = w;
  const shape = n % 5;
  if (shape === 4) {
    // Started and left pending (expires 15 minutes later).
    const started = await service.startEnrollment(
      userId,
      { accountName: userId, proof: null },
      web(userId, n),
    );
    w.secretsShown.push(started.secret);
    return;
  }
  let { secret, codes } = await enable(w, userId, n);
  await service.verify(userId, { code: codeAt(secret, clock.now()) }, web(userId, n));
  clock.advance(STEP);
  if (shape === 0) {
    for (const code of codes.slice(0, 8))
      await service.verify(userId, { recoveryCode: code }, web(userId, n));
    await expectRejected(service.verify(userId, { recoveryCode: codes[0]! }, web(userId, n)));
    const regenerated = await service.regenerateRecoveryCodes(
      userId,
      codeAt(secret, clock.now()),
      web(userId, n),
    );
    w.secretsShown.push(...regenerated.recoveryCodes);
    codes = regenerated.recoveryCodes;
    clock.advance(STEP);
  }
  if (shape === 1 || shape === 0) {
    for (let i = 0; i < 6; i++)
      await expectRejected(service.verify(userId, { code: '999999' }, web(userId, n)));
    await service.unlock(userId, admin());
    await service.verify(userId, { code: codeAt(secret, clock.now()) }, web(userId, n));
    clock.advance(STEP);
  }
  if (shape === 2) {
    // A new phone, proven with a recovery code.
    const started = await service.startEnrollment(
      userId,
      { accountName: userId, proof: { recoveryCode: codes[3]! } },
      web(userId, n),
    );
    clock.advance(5_000);
    const confirmed = await service.confirmEnrollment(
      userId,
      codeAt(started.secret, clock.now()),
      web(userId, n),
    );
    w.secretsShown.push(started.secret, ...confirmed.recoveryCodes);
    secret = started.secret;
    codes = confirmed.recoveryCodes;
    clock.advance(STEP);
    for (let i = 0; i < 5; i++)
      await expectRejected(service.verify(userId, { code: '999999' }, web(userId, n)));
    await service.reset(userId, `ticket ${n}`, admin());
    return;
  }
  if (shape === 0) {
    await service.disable(userId, { code: codeAt(secret, clock.now()) }, web(userId, n));
    clock.advance(STEP);
  }
  // shape 3 (and 1): stays enabled
}

/** `users` lives one after another, plus a policy change in the middle. */
export async function writeHistory(w: HistoryWriter, users: number, prefix = 'user'): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0; n < users; n++) {
    const userId = `${prefix}-${String(n).padStart(4, '0')}`;
    ids.push(userId);
    await lifeOf(w, userId, n);
    if (n === Math.floor(users / 2)) {
      await w.service.changePolicy(true, admin());
      await w.service.changePolicy(false, admin());
    }
    w.clock.advance(MINUTE);
  }
  return ids;
}
