import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiKey, Role } from '../config/apiKeys.ts';
import { HttpProblem } from './problems.ts';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The key of `Authorization: Bearer <key>` (scheme in any case, spacing as RFC 9110 allows), or null. */
export function presentedKey(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

/**
 * A short, one-way name for the key presented, for bucketing requests without holding the
 * key: the same key written `bearer KEY` or `Bearer  KEY ` has the same name.
 */
export const keyFingerprint = (authorization: string | undefined): string | null => {
  const key = presentedKey(authorization);
  return key === null ? null : digest(key).toString('hex').slice(0, 16);
};

/**
 * Resolves a Bearer key to its roles. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, against every configured key without an early exit, so neither the
 * length nor the prefix of a key leaks through timing.
 */
export function createAuthenticator(keys: readonly ApiKey[]) {
  const known = keys.map(({ role, key }) => ({ role, digest: digest(key) }));
  return function rolesOf(authorization: string | undefined): ReadonlySet<Role> | null {
    const key = presentedKey(authorization);
    if (key === null) return null;
    const presented = digest(key);
    const roles = new Set<Role>();
    for (const entry of known) if (timingSafeEqual(entry.digest, presented)) roles.add(entry.role);
    return roles.size > 0 ? roles : null;
  };
}

/** Throws the contract's 401 or 403 unless the request's key grants `role`. */
export function authorize(
  rolesOf: ReturnType<typeof createAuthenticator>,
  request: FastifyRequest,
  role: Role,
): void {
  const roles = rolesOf(request.headers.authorization);
  if (roles === null) {
    throw new HttpProblem('unauthenticated', 'send Authorization: Bearer <API key>', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  if (!roles.has(role))
    throw new HttpProblem('forbidden', `this route needs an API key with the ${role} role`);
}
