import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problems.ts';
import type { Session } from './sessionStore.ts';

export const CSRF_HEADER = 'x-csrf-token';

const refuse = (why: string) =>
  new HttpProblem('forbidden', `${why}: reload the page and try again (cross-site request check)`);

/**
 * A change is accepted only from this service's own page: the browser says it came from this
 * host (Origin, Sec-Fetch-Site — a page elsewhere cannot forge them), and it carries the
 * session's CSRF token, which only a same-origin script can have read. SameSite=Strict on the
 * cookie is a third line. Bodies are JSON only (forms are refused as 415 before this).
 */
export function checkCsrf(request: FastifyRequest, session: Session): void {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    let host: string | null = null;
    try {
      host = new URL(origin).host;
    } catch {
      host = null;
    }
    if (host === null || host !== request.headers.host) throw refuse('the request came from another site');
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') throw refuse('the request came from another site');
  const sent = request.headers[CSRF_HEADER];
  const expected = Buffer.from(session.csrfToken);
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refuse('the request did not carry this session’s token');
  }
}
