import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Role } from '../config/apiKeys.ts';
import type { CommandMetadata } from '../domain/shared/message.ts';
import { boundedUserAgent } from '../domain/shared/text.ts';
import { HttpProblem } from './problems.ts';

/**
 * Request and actor ids: printable ASCII without spaces (base64, e-mail addresses with `+`,
 * UUIDs…), short enough for a log line. Control characters never reach logs or events.
 */
export const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;
const ACTOR_ID_PATTERN = /^[\x20-\x7e]{1,200}$/;

/**
 * The end user's address, as the calling tier asserts it: one address. A forwarded list
 * (`client, proxy, …`) is refused rather than guessed at: its first entry is whatever the
 * client wrote, and recording it would let a client choose what the audit says.
 */
const endUserIp = z.union([z.ipv4(), z.ipv6()], {
  message: 'must be one IPv4 or IPv6 address, not a list',
});

const headersSchema = z.object({
  'x-actor-id': z.string().regex(ACTOR_ID_PATTERN, 'must be 1–200 printable ASCII characters').optional(),
  'x-end-user-ip': endUserIp.optional(),
  'x-end-user-agent': z.string().transform(boundedUserAgent).optional(),
});

/** The asserted end-user address when it is one well-formed address, else null. */
export function endUserAddress(request: FastifyRequest): string | null {
  const parsed = endUserIp.safeParse(request.headers['x-end-user-ip']);
  return parsed.success ? parsed.data : null;
}

/**
 * The audit context of a command: the request id as correlation and causation, the actor
 * (role of the route, id from X-Actor-Id), and the end user's address and agent.
 */
export function commandMetadata(
  request: FastifyRequest,
  role: Role,
  options: { readonly actorRequired: boolean },
): CommandMetadata {
  const parsed = headersSchema.safeParse(request.headers);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpProblem('invalid-request', `headers.${String(issue?.path[0])}: ${issue?.message}`);
  }
  const headers = parsed.data;
  if (options.actorRequired && headers['x-actor-id'] === undefined) {
    throw new HttpProblem('invalid-request', 'headers.x-actor-id: required: name the administrator acting');
  }
  return {
    correlationId: request.id,
    causationId: request.id,
    actor: { role, id: headers['x-actor-id'] ?? null },
    ...(headers['x-end-user-ip'] === undefined ? {} : { endUserIp: headers['x-end-user-ip'] }),
    ...(headers['x-end-user-agent'] === undefined ? {} : { endUserAgent: headers['x-end-user-agent'] }),
  };
}
