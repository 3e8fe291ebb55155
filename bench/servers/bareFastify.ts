/**
 * The baseline HTTP server: bare Fastify (no logger, no hooks, no schemas) answering the
 * same paths with the same JSON documents as the service. Compiled and started in its own
 * process by the benchmark exactly as the service is (bench/support/child.ts), so each has a
 * core's worth of the machine to itself.
 */
import Fastify from 'fastify';

const STATUS = {
  userId: 'user-0',
  status: 'enabled',
  enabledAt: '2026-01-15T09:00:00.000Z',
  recoveryCodesRemaining: 10,
  locked: false,
  lockedUntil: null,
  required: false,
  canDisable: true,
};

const app = Fastify();
app.get('/health/ready', async () => ({ ready: true }));
app.get<{ Params: { userId: string } }>('/v1/users/:userId/two-factor', async (request) => ({
  ...STATUS,
  userId: request.params.userId,
}));
// Parses the same JSON body as the sign-in route and answers the same document.
app.post<{ Params: { userId: string }; Body: { code?: string } }>(
  '/v1/users/:userId/two-factor/verify',
  async (request) => ({
    verified: true,
    method: typeof request.body.code === 'string' ? 'totp' : 'recovery-code',
    recoveryCodesRemaining: 10,
  }),
);

const port = Number(process.env.PORT ?? 0);
// No top-level await: it is compiled to CommonJS like the service (scripts/build.ts).
void app.listen({ host: '127.0.0.1', port });
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
