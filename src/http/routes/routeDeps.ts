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

export type RouteDeps = {
  readonly service: TwoFactorService;
  readonly requireRole: (role: Role) => onRequestHookHandler;
};
