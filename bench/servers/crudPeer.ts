/**
 * The CRUD peer: the sign-in second step as a team would write it without event sourcing,
 * the baseline the service's sign-ins are compared with. One Fastify route; one SQLite row
 * per user (WAL, synchronous=FULL: as durable as the service); the TOTP secret sealed with
 * AES-256-GCM; a code accepted within ±1 step only when its step is later than the last one
 * used (replay refused); an audit row for every attempt; one transaction, fsync'd, per
 * request. Started in its own process by the benchmark, like the service.
 *
 * Environment: PORT, PEER_DB (the file, filled by `seedPeer`), PEER_KEY (base64, 32 bytes),
 * API_KEY (the Bearer key it accepts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify from 'fastify';
import { HOTP, Secret } from 'otpauth';
import { openPeerDatabase, openSecret } from './crudPeerStore.ts';

const file = process.env.PEER_DB;
const key = Buffer.from(process.env.PEER_KEY ?? '', 'base64');
const apiKey = process.env.API_KEY ?? '';
if (!file || key.length !== 32 || apiKey.length === 0)
  throw new Error('PEER_DB, PEER_KEY and API_KEY are required');

const db = openPeerDatabase(file);
const selectUser = db.prepare<
  [string],
  { secret_nonce: Buffer; secret_ciphertext: Buffer; secret_tag: Buffer; recovery_codes_remaining: number }
>(
  'SELECT secret_nonce, secret_ciphertext, secret_tag, recovery_codes_remaining FROM users WHERE user_id = ?',
);
const lastStep = db.prepare<[string], number | null>('SELECT last_step FROM users WHERE user_id = ?').pluck();
const useStep = db.prepare<[number, string]>('UPDATE users SET last_step = ? WHERE user_id = ?');
const audit = db.prepare<[string, string, string, number | null, string, string | null, string | null]>(
  `INSERT INTO audit (user_id, at, outcome, step, request_id, end_user_ip, end_user_agent)
   VALUES (?, ?, ?, ?, ?, ?, ?)`,
);

type Attempt = {
  readonly userId: string;
  readonly candidates: readonly number[];
  readonly requestId: string;
  readonly ip: string | null;
  readonly agent: string | null;
};

/**
 * Under the write lock (IMMEDIATE), so two requests with the same code cannot both pass: the
 * step is checked against the last one used as committed, then recorded with the audit row.
 */
const signIn = db.transaction((attempt: Attempt): number | null => {
  const last = lastStep.get(attempt.userId) ?? null;
  const step = attempt.candidates.find((candidate) => last === null || candidate > last) ?? null;
  if (step !== null) useStep.run(step, attempt.userId);
  audit.run(
    attempt.userId,
    new Date().toISOString(),
    step === null ? 'failure' : 'success',
    step,
    attempt.requestId,
    attempt.ip,
    attempt.agent,
  );
  return step;
});

const knownKey = createHash('sha256').update(apiKey).digest();
const app = Fastify();
app.get('/health/ready', async () => ({ ready: true }));
app.post<{ Params: { userId: string }; Body: { code: string } }>(
  '/v1/users/:userId/two-factor/verify',
  {
    schema: {
      params: {
        type: 'object',
        properties: { userId: { type: 'string', pattern: '^[A-Za-z0-9._:@-]{1,128}$' } },
        required: ['userId'],
      },
      body: {
        type: 'object',
        properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } },
        required: ['code'],
        additionalProperties: false,
      },
    },
  },
  async (request, reply) => {
    const presented = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(createHash('sha256').update(presented).digest(), knownKey)) {
      return reply.status(401).send({ code: 'unauthenticated' });
    }
    const { userId } = request.params;
    const user = selectUser.get(userId);
    if (user === undefined) return reply.status(409).send({ code: 'not-enabled' });
    const secret = Secret.fromBase32(
      openSecret(key, userId, {
        nonce: user.secret_nonce,
        ciphertext: user.secret_ciphertext,
        tag: user.secret_tag,
      }),
    );
    const now = Math.floor(Date.now() / 30_000);
    const code = Buffer.from(request.body.code);
    // Every step of the window compared, in constant time; a match later than the last step used wins.
    const candidates = [now - 1, now, now + 1].filter((counter) =>
      timingSafeEqual(Buffer.from(HOTP.generate({ secret, counter })), code),
    );
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const step = signIn.immediate({
      userId,
      candidates,
      requestId: request.id,
      ip: header('x-end-user-ip'),
      agent: header('x-end-user-agent'),
    });
    if (step === null) return reply.status(422).send({ code: 'invalid-code' });
    return { verified: true, method: 'totp', recoveryCodesRemaining: user.recovery_codes_remaining };
  },
);

// No top-level await: it is compiled to CommonJS like the service (scripts/build.ts).
void app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.once('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});
