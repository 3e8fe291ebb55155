import Database from 'better-sqlite3';
import { EventIdConflictError } from '../eventIdConflictError.ts';
import { type AppendResult, ConcurrencyConflictError, type ExpectedRevision } from '../eventStore.ts';
import type { PreparedAppend } from './preparedAppend.ts';

/*
 * What the store and its writer thread say to each other. Errors do not cross a thread as
 * what they were (only their message survives a structured clone), so an append's own
 * refusal travels as data and is made again on the other side.
 */

export type SerializedAppendError =
  | {
      readonly kind: 'conflict';
      readonly streamName: string;
      readonly expected: ExpectedRevision;
      readonly actual: bigint | 'no-stream';
    }
  | {
      readonly kind: 'event-ids';
      readonly streamName: string;
      readonly eventIds: readonly string[];
      readonly reason: string;
    }
  | { readonly kind: 'constraint'; readonly code: string; readonly message: string };

export type SerializedOutcome =
  | { readonly ok: true; readonly value: AppendResult }
  | { readonly ok: false; readonly error: SerializedAppendError };

export type BatchReply =
  | {
      readonly kind: 'committed';
      readonly outcomes: readonly SerializedOutcome[];
      /** the log's last position before the batch, read under the write lock (0 for an empty log) */
      readonly lastBefore: bigint;
      /** and after it */
      readonly lastAfter: bigint;
      /** each stream the batch wrote, with its last revision now; null when not known */
      readonly heads: readonly (readonly [string, bigint | null])[];
    }
  | { readonly kind: 'rolled-back'; readonly reason: string };

/** The store to its writer. */
export type ToWriter =
  | { readonly type: 'commit'; readonly id: number; readonly items: readonly PreparedAppend[] }
  | { readonly type: 'ping'; readonly id: number }
  | { readonly type: 'close' };

/** The writer to its store. */
export type FromWriter =
  | { readonly type: 'ready' }
  | { readonly type: 'committed'; readonly id: number; readonly reply: BatchReply }
  | { readonly type: 'pong'; readonly id: number }
  | { readonly type: 'closed' };

export type WriterData = { readonly filePath: string; readonly busyTimeoutMs: number };

export function serializeAppendError(error: unknown): SerializedAppendError {
  if (error instanceof ConcurrencyConflictError) {
    return { kind: 'conflict', streamName: error.streamName, expected: error.expected, actual: error.actual };
  }
  if (error instanceof EventIdConflictError) {
    return {
      kind: 'event-ids',
      streamName: error.streamName,
      eventIds: error.eventIds,
      reason: error.reason,
    };
  }
  const { code, message } = error as InstanceType<typeof Database.SqliteError>;
  return { kind: 'constraint', code, message };
}

export function deserializeAppendError(error: SerializedAppendError): Error {
  switch (error.kind) {
    case 'conflict':
      return new ConcurrencyConflictError(error.streamName, error.expected, error.actual);
    case 'event-ids':
      return new EventIdConflictError(error.streamName, error.eventIds, error.reason);
    case 'constraint':
      return new Database.SqliteError(error.message, error.code);
  }
}
