import type { FastifyReply, FastifyRequest } from 'fastify';
import { UseCaseError } from '../application/errors.ts';
import { WorkOverloadedError } from '../crypto/workLimiter.ts';
import { keyFingerprint } from './authentication.ts';
import type { FailureThrottle } from './failureThrottle.ts';
import { HttpProblem } from './problems.ts';
import { endUserAddress } from './requestContext.ts';
import { throttleKeyOfAddress } from './throttleKey.ts';

/**
 * Outcomes that count against the end-user address: failures, and a used code sent again,
 * which costs no lockout but is no free ride for argon2 either.
 */
const FAILURES: ReadonlySet<string> = new Set(['invalid-code', 'locked', 'code-already-used']);

/**
 * Whether an attempt's error costs its address a failure. A check shed because the address
 * asked for more than its share of argon2 (`503 unavailable`) counts too: otherwise a flood
 * would be answered for free and never reach the throttle.
 */
const countsAsFailure = (error: Error): boolean =>
  (error instanceof UseCaseError && FAILURES.has(error.code)) || error instanceof WorkOverloadedError;

export type AttemptGuard = {
  /** the bucket a request's attempts are counted in: its end-user address, or its API key */
  readonly keyOf: (request: FastifyRequest) => string;
  /** route hook: refuses an address that has failed too often, and counts this attempt in advance */
  readonly preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** route hook: keeps the advance count of an attempt that failed */
  readonly onError: (request: FastifyRequest, reply: FastifyReply, error: Error) => Promise<void>;
  /** route hook: gives back the advance count of an attempt that did not fail */
  readonly onResponse: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
};

/**
 * The per-address throttle on the routes where a code is tried (verify, confirm, disable,
 * regenerate, replacement enrollment). Requests that name no end-user address share one
 * bucket per API key, so leaving the header out buys no fresh budget. Each attempt is
 * counted as a failure when it is admitted, so a burst sent at once is bounded as tightly
 * as one sent in sequence; it is given back when the attempt did not fail.
 */
export function createAttemptGuard(
  throttle: FailureThrottle,
  clock: () => number,
  /** the bucket of a request; a caller facing browsers directly passes the socket's address */
  keyOf: (request: FastifyRequest) => string = (request) => {
    const address = endUserAddress(request);
    return address === null
      ? `key:${keyFingerprint(request.headers.authorization) ?? 'none'}`
      : throttleKeyOfAddress(address);
  },
): AttemptGuard {
  /** attempts admitted and not (yet) known to have failed, with the bucket and time of admission */
  const admitted = new WeakMap<FastifyRequest, { key: string; atMs: number }>();
  return {
    keyOf,
    async preHandler(request) {
      const key = keyOf(request);
      const atMs = clock();
      const retryAfter = throttle.reserve(key, atMs);
      if (retryAfter === null) {
        admitted.set(request, { key, atMs });
        return;
      }
      throw new HttpProblem('rate-limited', 'too many failed attempts from this address; try again later', {
        headers: { 'retry-after': String(retryAfter) },
      });
    },
    async onError(request, _reply, error) {
      if (countsAsFailure(error)) admitted.delete(request);
    },
    async onResponse(request) {
      const reserved = admitted.get(request);
      if (reserved === undefined) return;
      admitted.delete(request);
      throttle.release(reserved.key, reserved.atMs);
    },
  };
}
