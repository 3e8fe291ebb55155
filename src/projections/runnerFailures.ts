import { StoreUnavailableError } from '../eventStore/eventStore.ts';

/** Why the runner is failing, in words safe to show (no event data, no error message). */
export type RunnerFailure = {
  /** epoch ms of the first failure since the runner last made progress */
  readonly since: number;
  readonly reason: string;
  /** the store did not answer (as opposed to a projection or the read models failing) */
  readonly storeUnavailable: boolean;
};

/** A checkpoint is not where this runner left it: another process wrote the read models. */
export class CheckpointMovedError extends Error {
  override readonly name = 'CheckpointMovedError';
  constructor(readonly projection: string) {
    super(
      `projection ${projection}: its checkpoint was moved by another process (a rebuild while the service runs?); starting over from the committed checkpoint`,
    );
  }
}

/** The read models hold a projection written by a newer build: this one must not touch it. */
export class NewerProjectionVersionError extends Error {
  override readonly name = 'NewerProjectionVersionError';
  constructor(readonly projections: readonly { name: string; stored: number; known: number }[]) {
    const list = projections
      .map(({ name, stored, known }) => `${name} (version ${stored}; this build knows ${known})`)
      .join(', ');
    const names = projections.map(({ name }) => name).join(' ');
    super(
      `the read models hold ${list} written by a newer version of the service; refusing to change them. ` +
        `Run the newer version, or rebuild for this version with \`twofactor projections rebuild ${names}\` ` +
        '(the newer version rebuilds them again when it starts)',
    );
  }
}

/** One projection failed to apply an event; the others' work in the same batch was kept. */
export class ProjectionFailedError extends Error {
  override readonly name = 'ProjectionFailedError';
  constructor(
    readonly projection: string,
    readonly position: bigint,
    options: { cause: unknown },
  ) {
    const cause = options.cause;
    super(
      `projection ${projection}: applying the event at position ${position} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      options,
    );
  }
}

/** Thrown by a projection's `applyBatch` to name the event of the batch it failed on. */
export class EventFailedError extends Error {
  override readonly name = 'EventFailedError';
  constructor(
    readonly position: bigint,
    options: { cause: unknown },
  ) {
    super(`the event at position ${position} failed`, options);
  }
}

/** What a failure says about itself where anyone may read it (readiness): never a message. */
export function describeFailure(error: unknown): { reason: string; storeUnavailable: boolean } {
  if (error instanceof StoreUnavailableError) {
    return { reason: 'the event store is unavailable', storeUnavailable: true };
  }
  if (error instanceof ProjectionFailedError) {
    const cause = error.cause instanceof Error ? error.cause.name : 'error';
    return {
      reason: `projection ${error.projection} fails at position ${error.position} (${cause}; see the service log)`,
      storeUnavailable: false,
    };
  }
  const name = error instanceof Error ? error.name : 'error';
  return { reason: `the projection runner fails (${name}; see the service log)`, storeUnavailable: false };
}
