import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problems.ts';
import { sameToken } from './signInToken.ts';

export const CSRF_HEADER = 'x-csrf-token';

/** The origin a request was addressed to (scheme and Host, as the proxies in TRUST_PROXY passed them on). */
export function requestOrigin(request: FastifyRequest): string | null {
  try {
    return new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return null;
  }
}

/**
 * The web UI answers on its one origin only (PUBLIC_URL): a request for another host, or over
 * another scheme, is misdirected. This is what stops a DNS-rebinding page, which reaches the
 * service under a name of its own, from being served the UI as its own origin.
 */
export function checkUiOrigin(request: FastifyRequest, origins: readonly string[]): void {
  const origin = requestOrigin(request);
  if (origin === null || !origins.includes(origin)) {
    throw new HttpProblem(
      'misdirected-request',
      `the web UI answers on ${origins[0] ?? 'its PUBLIC_URL'} only, not on ${origin ?? 'this address'}`,
    );
  }
}

const refuse = (why: string) =>
  new HttpProblem('forbidden', `${why}: reload the page and try again (cross-site request check)`, {
    title: 'The request did not come from this page',
  });

/**
 * A change is accepted only from this service's own page: the browser says it came from the
 * UI's origin (Origin, compared with PUBLIC_URL — never with the request's own Host, which a
 * rebinding page chooses; Sec-Fetch-Site — a page elsewhere cannot forge either), and it
 * carries `expected`, a token only a same-origin script can have read: the session's CSRF
 * token, or before a session the sign-in form's token. SameSite=Strict on the cookies is a
 * third line. Bodies are JSON only (forms are refused as 415 before this).
 */
export function checkCsrf(
  request: FastifyRequest,
  origins: readonly string[],
  expected: string | undefined,
): void {
  const origin = request.headers.origin;
  if (origin !== undefined && !origins.includes(origin)) throw refuse('the request came from another site');
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw refuse('the request came from another site');
  const sent = request.headers[CSRF_HEADER];
  if (!sameToken(typeof sent === 'string' ? sent : undefined, expected)) {
    throw refuse('the request did not carry this page’s token');
  }
}
