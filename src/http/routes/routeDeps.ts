import type {
  FastifyBaseLogger,
  FastifyInstance,
  onRequestHookHandler,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { TwoFactorService } from '../../application/twoFactorService.ts';
import type { Role } from '../../config/apiKeys.ts';
import type { AttemptGuard } from '../attemptGuard.ts';

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export type AttemptRouteDeps = RouteDeps & { readonly attempts: AttemptGuard };

/** The hooks of a route where a code is tried: the role's check, then the per-address throttle. */
export const attemptHooks = (onRequest: onRequestHookHandler, attempts: AttemptGuard) => ({
  onRequest,
  preHandler: attempts.preHandler,
  onError: attempts.onError,
  onResponse: attempts.onResponse,
});

export type RouteDeps = {
  readonly service: TwoFactorService;
  readonly requireRole: (role: Role) => onRequestHookHandler;
};
