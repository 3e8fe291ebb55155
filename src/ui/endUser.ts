import type { FastifyRequest } from 'fastify';
import type { CommandMetadata } from '../domain/shared/message.ts';
import { boundedUserAgent } from '../domain/shared/text.ts';

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; the audit wants a.b.c.d. */
const plainAddress = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/**
 * The audit context of a command from the web UI. Here the service faces the browser itself,
 * so the end user's address and agent are the connection's, not headers a calling tier asserts.
 * The agent is cleaned as the API's is (`boundedUserAgent`).
 */
export function uiCommandMetadata(
  request: FastifyRequest,
  actor: { readonly role: 'web' | 'admin'; readonly id: string },
): CommandMetadata {
  const agent = request.headers['user-agent'];
  return {
    correlationId: request.id,
    causationId: request.id,
    actor,
    endUserIp: plainAddress(request.ip),
    ...(agent === undefined
      ? {}
      : {
          endUserAgent: boundedUserAgent(agent),
        }),
  };
}
