import type { FastifyReply, FastifyRequest } from 'fastify';
import { UseCaseError } from '../application/errors.ts';
import { keyFingerprint } from './authentication.ts';
import type { FailureThrottle } from './failureThrottle.ts';
import { HttpProblem } from './problems.ts';
import { endUserAddress } from './requestContext.ts';
import { throttleKeyOfAddress } from './throttleKey.ts';

/** Outcomes that count as a failed attempt against the end-user address. */
const FAILURES: ReadonlySet<string> = new Set(['invalid-code', 'locked']);

export type AttemptGuard = {
  /** route hook: refuses an address that has failed too often, before any work is done */
  readonly preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** route hook: counts a failed attempt against its address */
  readonly onError: (request: FastifyRequest, reply: FastifyReply, error: Error) => Promise<void>;
};

/**
 * The per-address throttle on the routes where a code is tried (verify, confirm, disable,
 * regenerate, replacement enrollment). Requests that name no end-user address share one
 * bucket per API key, so leaving the header out buys no fresh budget.
 */
export function createAttemptGuard(throttle: FailureThrottle, clock: () => number): AttemptGuard {
  const keyOf = (request: FastifyRequest): string => {
    const address = endUserAddress(request);
    return address === null
      ? `key:${keyFingerprint(request.headers.authorization) ?? 'none'}`
      : throttleKeyOfAddress(address);
  };
  return {
    async preHandler(request) {
      const retryAfter = throttle.retryAfterSeconds(keyOf(request), clock());
      if (retryAfter === null) return;
      throw new HttpProblem('rate-limited', 'too many failed attempts from this address; try again later', {
        headers: { 'retry-after': String(retryAfter) },
      });
    },
    async onError(request, _reply, error) {
      if (error instanceof UseCaseError && FAILURES.has(error.code)) {
        throttle.recordFailure(keyOf(request), clock());
      }
    },
  };
}
