import type { FastifyRequest } from 'fastify';
import type { CommandMetadata } from '../domain/shared/message.ts';

const USER_AGENT_MAX = 512;

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; the audit wants a.b.c.d. */
const plainAddress = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/**
 * The audit context of a command from the web UI. Here the service faces the browser itself,
 * so the end user's address and agent are the connection's, not headers a calling tier asserts.
 * The agent loses control characters and bidirectional overrides, and is cut to a bounded length.
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
          endUserAgent: agent
            // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
            .replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ')
            .slice(0, USER_AGENT_MAX),
        }),
  };
}
