import { randomUUID } from 'node:crypto';
import type {
  EventStore,
  EventToAppend,
  JsonObject,
  RecordedEvent,
  Subscription,
} from '../../src/eventStore/eventStore.ts';

/** A stream no other test (nor another run against a shared server) can be using. */
export function uniqueStream(label: string): string {
  return `contract_${label}-${randomUUID().replaceAll('-', '')}`;
}

export function newEvent(
  data: JsonObject = {},
  metadata: JsonObject = {},
  type = 'ContractChecked',
): EventToAppend {
  return { id: randomUUID(), type, data, metadata };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Never assume the log is empty (a shared server); a fresh single-event append marks "now" in it. */
export async function markLogPosition(store: EventStore): Promise<bigint> {
  const result = await store.appendToStream(uniqueStream('marker'), [newEvent()], {
    expectedRevision: 'no-stream',
  });
  return result.position;
}

export async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const described = typeof what === 'string' ? what : what();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${described}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export type SubscriptionProbe = {
  /** every event delivered, in delivery order */
  readonly delivered: RecordedEvent[];
  /** the delivered events the test cares about */
  readonly relevant: RecordedEvent[];
  /** resolves once `relevant` holds at least `count` events */
  waitForRelevant(count: number): Promise<void>;
  /** settles when the subscription's loop has ended (rejects if it threw) */
  readonly ended: Promise<void>;
};

/** Runs a for-await loop over the subscription in the background and records what it sees. */
export function probeSubscription(
  subscription: Subscription,
  isRelevant: (event: RecordedEvent) => boolean,
  timeoutMs: number,
): SubscriptionProbe {
  const delivered: RecordedEvent[] = [];
  const relevant: RecordedEvent[] = [];
  const ended = (async () => {
    for await (const event of subscription) {
      delivered.push(event);
      if (isRelevant(event)) relevant.push(event);
    }
  })();
  // Surfaced through `ended`; this only keeps an early failure from being reported as unhandled.
  ended.catch(() => {});
  const waitForRelevant = (count: number) =>
    withTimeout(
      (async () => {
        while (relevant.length < count) {
          const failed = await Promise.race([
            ended.then(
              () => new Error(`subscription ended after ${relevant.length} of ${count} events`),
              (error: unknown) => error,
            ),
            new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10)),
          ]);
          if (failed !== undefined) throw failed;
        }
      })(),
      timeoutMs,
      () => `${count} events from the subscription (got ${relevant.length})`,
    );
  return { delivered, relevant, waitForRelevant, ended };
}

export function expectStrictlyIncreasing(values: readonly bigint[]): void {
  for (let index = 1; index < values.length; index += 1) {
    if (!(values[index]! > values[index - 1]!)) {
      throw new Error(
        `not strictly increasing at index ${index}: ${values[index - 1]} then ${values[index]}`,
      );
    }
  }
}
