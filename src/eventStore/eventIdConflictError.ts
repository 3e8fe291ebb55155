/**
 * Thrown when an append reuses event ids in a way that cannot be a retry of one earlier
 * append: some ids are new and some are not, the ids live in another stream, or they are not
 * stored at consecutive revisions in the given order. Event ids are random UUIDs chosen once
 * per decision, so this points at a bug in the caller, never at a race to be retried.
 */
export class EventIdConflictError extends Error {
  override readonly name = 'EventIdConflictError';
  constructor(
    readonly streamName: string,
    readonly eventIds: readonly string[],
    readonly reason: string,
  ) {
    super(`stream ${streamName}: event ids ${eventIds.join(', ')} ${reason}`);
  }
}
