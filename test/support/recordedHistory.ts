import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { createRuntime, type Runtime } from '../../src/composition.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { CommandMetadata } from '../../src/domain/shared/message.ts';
import { codeAt, KEYS, TEST_DIGEST_PARAMETERS, testClock } from './testService.ts';

/**
 * The environment a process needs to open `dataDir` as the service does: explicit keys, so
 * nothing is generated and a test never depends on files another run left behind.
 */
export function serviceEnvironment(dataDir: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    API_KEYS: `web:${KEYS.web},admin:${KEYS.admin},audit:${KEYS.audit}`,
    SECRET_ENCRYPTION_KEYS: `k1:${ENCRYPTION_KEY}`,
  };
}

// One key for the whole test process: a history written by one runtime is read by the next.
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

const webMetadata = (actor: string): CommandMetadata => {
  const id = randomUUID();
  return {
    correlationId: id,
    causationId: id,
    actor: { role: 'web', id: actor },
    endUserIp: '203.0.113.7',
    endUserAgent: 'Firefox/140',
  };
};

/** The real runtime (composition root) over `dataDir`, with cheap argon2 and a test clock. */
export function openRuntime(dataDir: string, clock = testClock()): Promise<Runtime> {
  return createRuntime(loadConfig(serviceEnvironment(dataDir)), pino({ level: 'silent' }), {
    clock: clock.now,
    digestParameters: TEST_DIGEST_PARAMETERS,
  });
}

export type RecordedHistory = {
  /** what no output may ever show: TOTP secrets, codes that were typed, recovery codes */
  readonly secrets: readonly string[];
  /** epoch ms before `ada` enrolled, and after she was enabled and had signed in */
  readonly beforeEnrollmentMs: number;
  readonly afterSignInMs: number;
};

/**
 * A small but varied history, written through the service as the HTTP routes would:
 * - `ada` enrolls, signs in with a code, fails once, signs in with a recovery code;
 * - `bob` enrolls and then fails 100 times in a row (waiting out each temporary lock), so
 *   his factor stays locked until an administrator unlocks it, whatever the clock says.
 * The runtime is closed at the end: the store is left as a stopped service leaves it.
 */
export async function recordHistory(dataDir: string): Promise<RecordedHistory> {
  const clock = testClock();
  const runtime = await openRuntime(dataDir, clock);
  const { service } = runtime;
  const secrets: string[] = [];
  try {
    const enable = async (userId: string) => {
      const started = await service.startEnrollment(
        userId,
        { accountName: `${userId}@example.com`, proof: null },
        webMetadata(userId),
      );
      const code = codeAt(started.secret, clock.now());
      const confirmed = await service.confirmEnrollment(userId, code, webMetadata(userId));
      secrets.push(started.secret, code, ...confirmed.recoveryCodes);
      clock.advance(30_000);
      return { secret: started.secret, recoveryCodes: confirmed.recoveryCodes };
    };

    // A code that is certainly wrong now: not one of the three steps the service accepts.
    const wrongCode = (secret: string) => {
      const valid = new Set([-30_000, 0, 30_000].map((offset) => codeAt(secret, clock.now() + offset)));
      let candidate = 0;
      while (valid.has(String(candidate).padStart(6, '0'))) candidate += 1;
      return String(candidate).padStart(6, '0');
    };

    const beforeEnrollmentMs = clock.now() - 1;
    const ada = await enable('ada');
    const code = codeAt(ada.secret, clock.now());
    secrets.push(code);
    await service.verify('ada', { code }, webMetadata('ada'));
    clock.advance(30_000);
    await service.verify('ada', { code: wrongCode(ada.secret) }, webMetadata('ada')).catch(() => undefined);
    await service.verify('ada', { recoveryCode: ada.recoveryCodes[0]! }, webMetadata('ada'));
    const afterSignInMs = clock.now();
    clock.advance(60_000);

    const bob = await enable('bob');
    for (let attempt = 1; attempt <= 100; attempt++) {
      await service.verify('bob', { code: wrongCode(bob.secret) }, webMetadata('bob')).catch(() => undefined);
      if (attempt % 5 === 0) clock.advance(3_600_000);
    }
    return { secrets, beforeEnrollmentMs, afterSignInMs };
  } finally {
    await runtime.close();
  }
}
