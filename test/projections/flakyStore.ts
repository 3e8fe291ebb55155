import {
  type EventStore,
  type RecordedEvent,
  StoreUnavailableError,
  type Subscription,
} from '../../src/eventStore/eventStore.ts';

/** A store in front of `inner` that the test takes down and brings back: reads then fail as an unreachable store does. */
export type FlakyStore = EventStore & {
  down(): void;
  up(): void;
};

export function flakyStore(inner: EventStore): FlakyStore {
  let down = false;
  const check = () => {
    if (down) throw new StoreUnavailableError('the test took the store down');
  };
  const subscriptions = new Set<Subscription>();
  return {
    down() {
      down = true;
      // As a lost connection does: live subscriptions end with an error.
      for (const subscription of subscriptions) void subscription.close();
    },
    up() {
      down = false;
    },
    appendToStream: (streamName, events, options) => inner.appendToStream(streamName, events, options),
    readStream: (streamName, options) => inner.readStream(streamName, options),
    readAll(options) {
      return {
        async *[Symbol.asyncIterator]() {
          check();
          for await (const event of inner.readAll(options)) {
            check();
            yield event;
          }
        },
      };
    },
    subscribeToAll(options) {
      check();
      const subscription = inner.subscribeToAll(options);
      subscriptions.add(subscription);
      const iterator = subscription[Symbol.asyncIterator]();
      const wrapped: AsyncIterator<RecordedEvent> = {
        async next() {
          const result = await iterator.next();
          if (down) throw new StoreUnavailableError('the test took the store down');
          return result;
        },
        return: async () => {
          await subscription.close();
          return { done: true, value: undefined };
        },
      };
      return {
        [Symbol.asyncIterator]: () => wrapped,
        close: async () => {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async ping() {
      check();
      await inner.ping();
    },
    close: () => inner.close(),
  };
}
