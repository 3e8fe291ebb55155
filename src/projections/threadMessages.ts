import type { StoreLocation } from '../eventStore/storeLocation.ts';
import type { RunnerHealth } from './projectionRunner.ts';
import { NewerProjectionVersionError } from './runnerFailures.ts';
import { type LockOwner, ReadModelsLockedError } from './runnerLock.ts';

/*
 * What the service and its projection thread say to each other (`readModelsThread.ts`,
 * `readModelsWorker.ts`). Errors do not survive a thread as what they were, so the ones a
 * caller tells apart travel as data and are made again.
 */

export type ProjectorData = {
  readonly location: StoreLocation;
  readonly dataDir: string;
  readonly fileName: string;
  readonly role: string;
  readonly logLevel: string;
  readonly batchSize?: number;
  readonly retryDelayMs?: number;
};

export type SerializedError =
  | { readonly kind: 'locked'; readonly file: string; readonly owner: LockOwner | null }
  | {
      readonly kind: 'newer';
      readonly projections: readonly { name: string; stored: number; known: number }[];
    }
  | { readonly kind: 'range'; readonly message: string }
  | { readonly kind: 'error'; readonly name: string; readonly message: string };

export type ToProjector =
  | { readonly type: 'start' }
  | { readonly type: 'rebuild'; readonly id: number; readonly name?: string }
  | { readonly type: 'store-answered' }
  | { readonly type: 'stop' };

export type FromProjector =
  | { readonly type: 'started' }
  | { readonly type: 'start-failed'; readonly error: SerializedError }
  | { readonly type: 'health'; readonly health: RunnerHealth }
  | {
      readonly type: 'progress';
      readonly id: number;
      readonly applied: number;
      readonly total: number | null;
    }
  | { readonly type: 'rebuilt'; readonly id: number }
  | { readonly type: 'rebuild-failed'; readonly id: number; readonly error: SerializedError }
  /** a line of the thread's log (pino JSON), for the service's logger to write */
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'stopped' };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ReadModelsLockedError) return { kind: 'locked', file: error.file, owner: error.owner };
  if (error instanceof NewerProjectionVersionError) return { kind: 'newer', projections: error.projections };
  if (error instanceof RangeError) return { kind: 'range', message: error.message };
  return error instanceof Error
    ? { kind: 'error', name: error.name, message: error.message }
    : { kind: 'error', name: 'Error', message: String(error) };
}

export function deserializeError(error: SerializedError): Error {
  switch (error.kind) {
    case 'locked':
      return new ReadModelsLockedError(error.file, error.owner);
    case 'newer':
      return new NewerProjectionVersionError(error.projections);
    case 'range':
      return new RangeError(error.message);
    case 'error': {
      const made = new Error(error.message);
      made.name = error.name;
      return made;
    }
  }
}
