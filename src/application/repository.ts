import { GENESIS_HASH } from '../audit/hashChain.ts';
import { linkOf } from '../audit/storedMetadata.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import {
  type AppendResult,
  ConcurrencyConflictError,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  StoreUnavailableError,
} from '../eventStore/eventStore.ts';
import type { Snapshot, SnapshotStore } from '../snapshots/snapshotStore.ts';
import { type EventSchema, fromRecordedEvent, toStoredEvents } from './storedEvent.ts';

export type AggregateKind<S, E extends AnyEvent> = EventSchema & {
  readonly initialState: () => S;
  readonly evolve: (state: S, event: E) => S;
  /** raise when the state's shape or `evolve` changes: older snapshots are then ignored */
  readonly stateVersion: number;
};

/** An aggregate as loaded: its state, the revision it was folded to and its chain's last hash. */
export type Loaded<S> = {
  readonly state: S;
  /** null while the stream does not exist */
  readonly revision: bigint | null;
  readonly lastHash: string;
};

export type RepositoryOptions = {
  /** how many aggregates stay folded in memory */
  readonly cacheSize?: number;
  /** a snapshot is saved once this many events were folded since the last one */
  readonly snapshotEvery?: number;
  /** how often an append whose outcome is unknown (store unreachable) is sent again */
  readonly unknownOutcomeAttempts?: number;
  readonly unknownOutcomeBackoffMs?: number;
  /** told when a snapshot could not be saved (the command goes on without it) */
  readonly onSnapshotError?: (error: unknown) => void;
};

/**
 * Loads aggregates from where they were last folded — the in-memory cache, else the latest
 * snapshot — and reads only the events after it, so a user with ten thousand sign-ins loads
 * like one with ten. Always reads the stream's tail, so it is correct with other writers.
 */
export function createRepository<S, E extends AnyEvent>(
  store: EventStore,
  kind: AggregateKind<S, E>,
  snapshots: SnapshotStore,
  options: RepositoryOptions = {},
) {
  const cacheSize = options.cacheSize ?? 10_000;
  const snapshotEvery = BigInt(options.snapshotEvery ?? 50);
  const unknownOutcomeAttempts = options.unknownOutcomeAttempts ?? 3;
  const unknownOutcomeBackoffMs = options.unknownOutcomeBackoffMs ?? 250;
  const cache = new Map<string, Loaded<S> & { readonly snapshotRevision: bigint | null }>();

  const remember = (streamName: string, loaded: Loaded<S>, snapshotRevision: bigint | null) => {
    cache.delete(streamName);
    cache.set(streamName, { ...loaded, snapshotRevision });
    if (cache.size > cacheSize) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  };

  /**
   * A snapshot holds only while the stream still has, at the snapshot's revision, the event
   * whose hash it recorded: a store that was replaced or rewritten invalidates it.
   */
  async function snapshotHolds(snapshot: Snapshot): Promise<boolean> {
    for await (const recorded of store.readStream(snapshot.streamName, {
      fromRevision: snapshot.revision,
      maxCount: 1,
    })) {
      return linkOf(recorded.metadata) === snapshot.lastHash;
    }
    return false;
  }

  async function startingPoint(streamName: string) {
    const cached = cache.get(streamName);
    if (cached) return cached;
    const snapshot = await snapshots.load(streamName);
    if (snapshot && snapshot.stateVersion === kind.stateVersion && (await snapshotHolds(snapshot))) {
      return {
        state: snapshot.state as S,
        revision: snapshot.revision,
        lastHash: snapshot.lastHash,
        snapshotRevision: snapshot.revision,
      };
    }
    return { state: kind.initialState(), revision: null, lastHash: GENESIS_HASH, snapshotRevision: null };
  }

  async function load(streamName: string): Promise<Loaded<S>> {
    const start = await startingPoint(streamName);
    let { state, revision, lastHash } = start;
    const fromRevision = revision === null ? 0n : revision + 1n;
    for await (const recorded of store.readStream(streamName, { fromRevision })) {
      state = kind.evolve(state, fromRecordedEvent<E>(recorded, kind));
      revision = recorded.revision;
      lastHash = linkOf(recorded.metadata) ?? lastHash;
    }
    let snapshotRevision = start.snapshotRevision;
    if (revision !== null && revision - (snapshotRevision ?? -1n) >= snapshotEvery) {
      try {
        await snapshots.save({ streamName, revision, lastHash, stateVersion: kind.stateVersion, state });
        snapshotRevision = revision;
      } catch (error) {
        // A snapshot is only a cache: failing to save one must not fail the command.
        options.onSnapshotError?.(error);
      }
    }
    const loaded = { state, revision, lastHash };
    remember(streamName, loaded, snapshotRevision);
    return loaded;
  }

  /**
   * A store that stops answering may have written an append before it went quiet. Sending the
   * very same events again (same ids, same expected revision) is idempotent on both adapters:
   * it either writes them now or acknowledges the earlier write, so the caller learns the
   * outcome instead of guessing. Only when the store stays unreachable does the error escape.
   */
  async function appendResolvingUnknownOutcome(
    streamName: string,
    stored: readonly EventToAppend[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await store.appendToStream(streamName, stored, { expectedRevision });
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || attempt >= unknownOutcomeAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, unknownOutcomeBackoffMs * attempt));
      }
    }
  }

  /** Appends with the loaded revision as the expected one; a ConcurrencyConflictError means reload. */
  async function append(streamName: string, loaded: Loaded<S>, events: readonly E[]): Promise<Loaded<S>> {
    const firstRevision = loaded.revision === null ? 0n : loaded.revision + 1n;
    const { stored, lastHash } = toStoredEvents(streamName, firstRevision, loaded.lastHash, events);
    const expectedRevision = loaded.revision === null ? ('no-stream' as const) : loaded.revision;
    let result: AppendResult;
    try {
      result = await appendResolvingUnknownOutcome(streamName, stored, expectedRevision);
    } catch (error) {
      // Our picture of the stream is stale (another writer, or a store restored from backup):
      // fold it afresh next time rather than trusting the cache.
      if (error instanceof ConcurrencyConflictError) cache.delete(streamName);
      throw error;
    }
    const next = {
      state: events.reduce(kind.evolve, loaded.state),
      revision: result.nextExpectedRevision,
      lastHash,
    };
    remember(streamName, next, cache.get(streamName)?.snapshotRevision ?? null);
    return next;
  }

  /** Every event of a stream, upcast, for replays (audit); not cached. */
  async function* readEvents(
    streamName: string,
  ): AsyncIterable<{ event: E; recordedAt: Date; revision: bigint }> {
    for await (const recorded of store.readStream(streamName)) {
      yield {
        event: fromRecordedEvent<E>(recorded, kind),
        recordedAt: recorded.recordedAt,
        revision: recorded.revision,
      };
    }
  }

  return { load, append, readEvents };
}

export type Repository<S, E extends AnyEvent> = ReturnType<typeof createRepository<S, E>>;
