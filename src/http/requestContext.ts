import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Role } from '../config/apiKeys.ts';
import type { CommandMetadata } from '../domain/shared/message.ts';
import { HttpProblem } from './problems.ts';

/** The same alphabet as user ids: what ends up in events and logs stays printable and short. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

const headersSchema = z.object({
  'x-actor-id': z
    .string()
    .regex(REQUEST_ID_PATTERN, 'must be 1–128 characters of [A-Za-z0-9._:@-]')
    .optional(),
  'x-end-user-ip': z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' }).optional(),
  'x-end-user-agent': z.string().max(512, 'must be at most 512 characters').optional(),
});

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
