import {
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  streamNameFilter,
} from '@eventstore/db-client';
import type { RecordedEvent, Subscription } from '../eventStore.ts';
import { itemsOf, WatchedStream } from './clientStreams.ts';
import { unavailable } from './errors.ts';
import { DOMAIN_STREAM_NAME } from './filteredReadAll.ts';
import {
  allPositionOf,
  isSystemEvent,
  readAllStart,
  toRecordedEvent,
  UnaddressablePositionError,
} from './mapping.ts';

export type DomainSubscriptionOptions = {
  /** the port's exclusive start: only events after this `$all` position */
  readonly after: bigint;
  /** the server must confirm the subscription within this time, or it fails as unavailable */
  readonly confirmWithinMs: number;
  /** the port's error for what the client threw (the store's own mapping, closing included) */
  readonly failure: (operation: string, error: unknown) => unknown;
  /** the store's open subscriptions: this one is in it until it is closed or fails */
  readonly subscriptions: Set<{ close(): Promise<void> }>;
};

/**
 * The port's `subscribeToAll` on EventStoreDB: a catch-up subscription to `$all` that yields
 * the domain's events in position order, then follows live. Mirrors `sqliteSubscription.ts`.
 *
 * The server reads history from the start position, then switches to live events by itself.
 * Its start position is exclusive ("The positions provided to the subscriptions are
 * exclusive", docs.kurrent.io/clients/grpc/subscriptions; CatchupAllSubscription skips
 * `position <= _startPosition`), which is the port's "after". The server-side filter keeps
 * system streams and the key store's off the wire; the check below also drops the `$` events
 * of other streams (a tombstone's `$streamDeleted`).
 */
export function subscribeToDomainEvents(
  client: EventStoreDBClient,
  { after, confirmWithinMs, failure, subscriptions }: DomainSubscriptionOptions,
): Subscription {
  const subscription = client.subscribeToAll({
    fromPosition: readAllStart(after),
    filter: streamNameFilter({ regex: DOMAIN_STREAM_NAME }),
    requiresLeader: true,
  });
  // Watched from the start: the connection may fail before anyone iterates.
  const watched = new WatchedStream(subscription);
  // A live subscription may rightly wait forever for the next event, so it has no idle
  // deadline; instead the server must confirm it in time (its first message), after which
  // gRPC keepalive pings (10 s, the client's default) detect a connection that died.
  const unconfirmed = setTimeout(() => {
    watched.fail(unavailable('subscribeToAll', new Error('the server did not confirm the subscription')));
    void forget();
  }, confirmWithinMs);
  unconfirmed.unref();
  subscription.once('confirmation', () => clearTimeout(unconfirmed));
  let stopRequested = false;
  let resolveStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  const forget = async () => {
    clearTimeout(unconfirmed);
    subscriptions.delete(handle);
    await subscription.unsubscribe().catch(() => {});
  };
  const handle = {
    close: async () => {
      stopRequested = true;
      resolveStopped();
      await forget();
    },
  };
  subscriptions.add(handle);

  async function* events(): AsyncGenerator<RecordedEvent> {
    try {
      for await (const resolved of itemsOf<AllStreamResolvedEvent>(watched, {
        operation: 'subscribeToAll',
        cancel: forget,
        stopped,
      })) {
        if (stopRequested) return;
        const event = resolved.event;
        if (event === undefined || isSystemEvent(event)) continue;
        const recorded = toRecordedEvent(event, allPositionOf(event, resolved.commitPosition));
        // Exclusive start, whatever the server version does.
        if (recorded.position <= after) continue;
        yield recorded;
      }
    } catch (error) {
      if (stopRequested) return;
      if (error instanceof UnaddressablePositionError) throw error;
      throw failure('subscribeToAll', error);
    }
    if (!stopRequested) {
      // The server never ends a subscription by itself; an end without close() is a lost
      // connection, and the caller resubscribes from its checkpoint.
      throw unavailable('subscribeToAll', new Error('the subscription ended without close()'));
    }
  }

  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    close: handle.close,
  };
}
