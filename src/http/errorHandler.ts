import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { UseCaseError } from '../application/errors.ts';
import { KeyUnavailableError } from '../crypto/secretBox.ts';
import { WorkOverloadedError } from '../crypto/workLimiter.ts';
import { StoreUnavailableError } from '../eventStore/eventStore.ts';
import { DataKeyErasedError } from '../keys/userKeys.ts';
import { HttpProblem, LOCKED_UNTIL_ADMIN_STATUS } from './problems.ts';

/** Seconds a client should wait before retrying when the store is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** …when expensive checks were shed: an address's turn comes round within a second or two. */
export const OVERLOADED_RETRY_AFTER_SECONDS = 1;
/** …when a key is missing: an operator must act, so not soon. */
export const KEY_UNAVAILABLE_RETRY_AFTER_SECONDS = 60;

const fieldPath = (context: string | undefined, instancePath: string): string =>
  [context ?? 'request', ...instancePath.split('/').filter((part) => part.length > 0)].join('.');

/** Turns anything thrown into the contract's problem document; the only place that does. */
export function toProblem(error: unknown, nowMs: number): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof UseCaseError) {
    if (error.code === 'locked') {
      if (error.lockedUntil === null) {
        return new HttpProblem('locked', error.message, { status: LOCKED_UNTIL_ADMIN_STATUS });
      }
      const seconds = Math.max(1, Math.ceil((Date.parse(error.lockedUntil) - nowMs) / 1000));
      return new HttpProblem('locked', error.message, { headers: { 'retry-after': String(seconds) } });
    }
    if (error.code === 'rate-limited' && error.lockedUntil !== null) {
      const seconds = Math.max(1, Math.ceil((Date.parse(error.lockedUntil) - nowMs) / 1000));
      return new HttpProblem('rate-limited', error.message, { headers: { 'retry-after': String(seconds) } });
    }
    // A name the edge lets through but the domain refuses (the rule is the same function):
    // malformed input, as the contract calls it.
    if (error.code === 'invalid-authenticator-name') return new HttpProblem('invalid-request', error.message);
    return new HttpProblem(error.code, error.message);
  }
  if (error instanceof StoreUnavailableError) {
    return new HttpProblem(
      'unavailable',
      'the event store cannot be reached and the command was not confirmed; try again',
      {
        headers: { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      },
    );
  }
  if (error instanceof WorkOverloadedError) {
    return new HttpProblem('unavailable', 'too many code checks at once from here; try again in a moment', {
      headers: { 'retry-after': String(OVERLOADED_RETRY_AFTER_SECONDS) },
    });
  }
  if (error instanceof KeyUnavailableError) {
    // The user can do nothing about it and must not learn which key: the operator is told.
    return new HttpProblem(
      'unavailable',
      'this account cannot be checked right now: the service is missing a key it needs; try again later',
      { headers: { 'retry-after': String(KEY_UNAVAILABLE_RETRY_AFTER_SECONDS) } },
    );
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const [first] = error.validation;
    const field = fieldPath(error.validationContext, first?.instancePath ?? '');
    // zod reports unknown fields on their parent object; name the field itself.
    const unknown =
      first?.keyword === 'unrecognized_keys' ? (first.params as { keys?: string[] }).keys?.[0] : undefined;
    if (unknown !== undefined)
      return new HttpProblem('invalid-request', `${field}.${unknown}: unknown field`);
    return new HttpProblem('invalid-request', `${field}: ${first?.message ?? 'invalid'}`);
  }
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload-too-large', 'the request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem('unsupported-media-type', 'send the body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpProblem('invalid-request', 'headers.content-length: does not match the body');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem(
        'invalid-request',
        'body: a JSON body is required with content-type application/json',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem('invalid-request', 'body: not valid JSON');
  }
  if (fastifyError.validation) {
    return new HttpProblem('invalid-request', `${fastifyError.validationContext ?? 'request'}: invalid`);
  }
  // Fastify's own 4xx (bad JSON, bad content length…): the client's fault, never a 5xx.
  if (
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    if (fastifyError.statusCode === 415)
      return new HttpProblem('unsupported-media-type', 'unsupported content type');
    if (fastifyError.statusCode === 413)
      return new HttpProblem('payload-too-large', 'the request body is too large');
    return new HttpProblem('invalid-request', 'the request is malformed');
  }
  return new HttpProblem('internal', 'an unexpected error occurred; it has been logged');
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem): FastifyReply {
  for (const [name, value] of Object.entries(problem.options.headers ?? {})) reply.header(name, value);
  return reply.status(problem.status).type('application/problem+json').send(problem.toDocument());
}

export function installErrorHandling(
  app: FastifyInstance,
  clock: () => number,
  onKeyUnavailable: (keyId: string) => void = () => {},
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const problem = toProblem(error, clock());
    if (error instanceof DataKeyErasedError) {
      // Not a key to add: an erasure destroyed this user's key and has not recorded itself yet.
      request.log.error(
        { keyId: error.keyId },
        "the user's data key was destroyed but the erasure is not recorded: run the erasure again to finish it",
      );
    } else if (error instanceof KeyUnavailableError) {
      onKeyUnavailable(error.keyId);
      request.log.error(
        { keyId: error.keyId },
        'stored data needs an encryption key that is not configured: add it to SECRET_ENCRYPTION_KEYS',
      );
    } else if (error instanceof WorkOverloadedError) {
      request.log.warn('argon2 work shed: a code check would have waited too long for its share');
    } else if (problem.status >= 500 && problem.code !== 'unavailable') {
      request.log.error({ err: error }, 'unexpected error');
    } else if (problem.code === 'unavailable') {
      request.log.warn(
        { err: { name: (error as Error).name, message: (error as Error).message } },
        'store unavailable',
      );
    }
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new HttpProblem('not-found', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}
