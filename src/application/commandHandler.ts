import type { AnyEvent } from '../domain/shared/message.ts';
import { ConcurrencyConflictError } from '../eventStore/eventStore.ts';
import { UseCaseError } from './errors.ts';
import type { KeyedMutex } from './keyedMutex.ts';
import type { Loaded, Repository } from './repository.ts';

/** Conflicts only come from other processes (in-process commands queue); a few retries absorb them. */
export const MAX_ATTEMPTS = 8;

/**
 * One command against one stream: load, decide, append with the expected revision; on a
 * conflict, load again and decide again. `decide` may do slow preparation (argon2, key
 * derivation) — it runs before the append, outside any store transaction — and it must
 * not have side effects beyond its result, since it may run more than once.
 */
export async function handleCommand<S, E extends AnyEvent, R>(
  repository: Repository<S, E>,
  mutex: KeyedMutex,
  streamName: string,
  decide: (state: S) => Promise<{ readonly events: readonly E[]; readonly result: R }>,
): Promise<{ readonly result: R; readonly events: readonly E[]; readonly after: Loaded<S> }> {
  return mutex(streamName, async () => {
    for (let attempt = 1; ; attempt++) {
      const loaded = await repository.load(streamName);
      const { events, result } = await decide(loaded.state);
      if (events.length === 0) return { result, events, after: loaded };
      try {
        const after = await repository.append(streamName, loaded, events);
        return { result, events, after };
      } catch (error) {
        if (!(error instanceof ConcurrencyConflictError)) throw error;
        if (attempt >= MAX_ATTEMPTS) {
          throw new UseCaseError('conflict', 'too many concurrent changes to this account; try again');
        }
      }
    }
  });
}
