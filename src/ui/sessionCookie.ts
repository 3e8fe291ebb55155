import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The signed-in session's id. */
export const SESSION_COOKIE = 'tf_session';
/** The sign-in form's token, before there is a session (signInToken.ts). */
export const SIGN_IN_COOKIE = 'tf_signin';

/**
 * The cookies' names and attributes, decided by PUBLIC_URL: over https they are `Secure` and
 * carry the `__Host-` prefix, which browsers accept only from a secure origin, without a
 * Domain and for Path=/ — so no other host (a sibling subdomain included) can set or shadow
 * them. HttpOnly: page scripts cannot read them. SameSite=Strict: no other site's page makes
 * the browser send them. No Max-Age: they end with the browser, and the server forgets idle
 * sessions anyway.
 */
export function uiCookies(secure: boolean) {
  const name = (base: string) => (secure ? `__Host-${base}` : base);
  const set = (reply: FastifyReply, base: string, value: string, clear = false) => {
    reply.header(
      'set-cookie',
      stringifySetCookie({
        name: name(base),
        value,
        httpOnly: true,
        sameSite: 'strict',
        secure,
        path: '/',
        ...(clear ? { maxAge: 0 } : {}),
      }),
    );
  };
  return {
    /** the value the browser sent for this cookie, if any */
    read(request: FastifyRequest, base: string): string | undefined {
      const header = request.headers.cookie;
      return header === undefined ? undefined : parseCookie(header)[name(base)];
    },
    set: (reply: FastifyReply, base: string, value: string) => set(reply, base, value),
    clear: (reply: FastifyReply, base: string) => set(reply, base, '', true),
  };
}

export type UiCookies = ReturnType<typeof uiCookies>;
