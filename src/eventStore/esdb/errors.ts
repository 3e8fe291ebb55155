import {
  CancelledError,
  DeadlineExceededError,
  isCommandError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
  UnknownError,
} from '@eventstore/db-client';
import { StoreUnavailableError } from '../eventStore.ts';
import { redactCredentials } from './connectionString.ts';

/**
 * gRPC status codes that mean "the server could not be reached or did not answer in time":
 * a read did not happen; an append may or may not have been written, which the repository
 * resolves by sending the same events (same ids, same expected revision) again.
 * CANCELLED counts only when the server cancelled (our own cancellations never reach here).
 * https://grpc.github.io/grpc/core/md_doc_statuscodes.html
 */
const UNAVAILABLE_GRPC_CODES = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  10, // ABORTED: EventStoreDB answers a write that timed out inside the cluster with it
  14, // UNAVAILABLE
]);

/**
 * Node's socket error codes. Every call of the client, cluster discovery included (gRPC
 * Gossip/Read, Client/discovery.js), reports a numeric gRPC status instead; these are only a
 * safety net for an error that escapes from a socket as it is.
 */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

const NOT_HANDLED = /Server Is Not Ready|Server Is Busy|No leader info available/;

/**
 * Whether an error thrown by @eventstore/db-client means the store is unavailable.
 *
 * The client does not convert every failure: an append to an unreachable server rejects
 * with the raw gRPC ServiceError (`code === 14`) of its server-features probe, while
 * reads convert to `UnavailableError`. Both must read the same to callers.
 */
export function isUnavailable(error: unknown): boolean {
  if (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof CancelledError ||
    // The node we talked to lost leadership; the client reconnects to the new leader on
    // its own, so the same command is worth retrying, exactly like a short outage.
    error instanceof NotLeaderError
  ) {
    return true;
  }
  // Batch appends report a node that is starting, overloaded or leaderless as a plain status
  // the client cannot classify (Streams.BatchAppend.cs answers NotHandled that way).
  if (error instanceof UnknownError && NOT_HANDLED.test(error.message)) return true;
  if (typeof error !== 'object' || error === null) return false;
  // Any other converted error (WrongExpectedVersion, AccessDenied, StreamDeleted…) is an
  // answer from the server, even though it also carries a gRPC code.
  if (error instanceof Error && isCommandError(error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number') return UNAVAILABLE_GRPC_CODES.has(code);
  if (typeof code === 'string') return UNAVAILABLE_SOCKET_CODES.has(code);
  // Cluster discovery gives up with a plain Error after its gossip reads all failed
  // (Client/discovery.js).
  return error instanceof Error && error.message.startsWith('Failed to discover after');
}

/** A StoreUnavailableError for `error`, with a message that is safe to log. */
export function unavailable(operation: string, error: unknown): StoreUnavailableError {
  const message = (error as { message?: unknown } | null)?.message;
  const detail = typeof message === 'string' ? redactCredentials(message) : 'unknown error';
  return new StoreUnavailableError(`EventStoreDB unavailable (${operation}): ${detail}`, { cause: error });
}

/** Maps what the client threw to the port's errors; anything else is passed on untouched. */
export function toPortError(operation: string, error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  return isUnavailable(error) ? unavailable(operation, error) : error;
}

/**
 * Settles like `promise`, or rejects with StoreUnavailableError after `ms`.
 *
 * Why: some client calls carry no deadline at all (the server-features probe that precedes
 * the first append, reads of `$all`), so a server that accepts TCP but never answers would
 * hold a command, or a readiness probe, for as long as the socket lives.
 */
export async function withDeadline<T>(operation: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(unavailable(operation, new Error(`no answer within ${ms} ms`)));
    }, ms);
    timer.unref();
  });
  // Promise.race subscribes to both, so a late rejection of the loser is handled, not fatal.
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
