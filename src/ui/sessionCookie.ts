import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'tf_session';

/** The session id the browser sent, if any. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : parseCookie(header)[SESSION_COOKIE];
}

/**
 * HttpOnly: page scripts cannot read it. SameSite=Strict: no other site's page can make the
 * browser send it. Secure whenever the page itself came over TLS. No Max-Age: it ends with the
 * browser, and the server forgets idle sessions anyway.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string): void {
  reply.header(
    'set-cookie',
    stringifySetCookie({
      name: SESSION_COOKIE,
      value: id,
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: '/',
    }),
  );
}
