import {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  StreamDeletedError as EsdbStreamDeletedError,
  type EventStoreDBClient,
  jsonEvent,
  NO_STREAM,
  type ResolvedEvent,
  StreamNotFoundError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { itemsOf, readLastEvent, WatchedStream } from '../eventStore/esdb/clientStreams.ts';
import { connectEsdb } from '../eventStore/esdb/connect.ts';
import type { ConnectionSettings } from '../eventStore/esdb/connectionString.ts';
import { toPortError, withDeadline } from '../eventStore/esdb/errors.ts';
import { DATA_KEY_STREAM_PREFIX, readAllFiltered } from '../eventStore/esdb/filteredReadAll.ts';
import { allPositionOf, isSoftDeletedMetadata, readAllStart } from '../eventStore/esdb/mapping.ts';
import { StoreUnavailableError, StreamDeletedError } from '../eventStore/eventStore.ts';
import type { KeyStore, WrappedDataKey } from './keyStore.ts';

/*
 * The key store on EventStoreDB / KurrentDB: one stream per user, `data-key-{userId}`.
 *
 * ERASURE ON DISK TAKES A SCAVENGE. Destroying a key soft-deletes its stream, and a rotation
 * leaves the previous wrapping behind the stream's `$maxCount: 1`: both only hide events.
 * EventStoreDB removes hidden events from its files at the next scavenge, and not before;
 * until then a destroyed key, or a wrapping under a retired instance key, can still be read
 * from the database files (and from backups of them). After an erasure or a rotation the
 * operator runs a scavenge on every node, `POST /admin/scavenge` (e.g. `curl -X POST -u
 * admin:… https://<node>:2113/admin/scavenge`) or Admin → Scavenge in the UI, and the key is
 * gone for good once it has completed. The SQLite adapter needs no such step.
 *
 * Events, each carrying the whole current state, because `$maxCount: 1` leaves only the last
 * one readable:
 * - `DataKeyCreated` {dataKeyId, wrappingKeyId, wrapped, createdAt}: the user's key;
 * - `DataKeyRewrapped` {dataKeyId, wrappingKeyId, wrapped, createdAt}: the same key under
 *   another instance key;
 * - `DataKeyDestroyed` {dataKeyId}: written just before the stream is soft-deleted (below).
 * The current key is the stream's last event, read backwards.
 *
 * What the server does with a soft-deleted stream (StorageWriterService and
 * IndexWriter.CheckCommit in KurrentDB 25):
 * - reads answer "stream not found"; the stream keeps its last revision number;
 * - an append with `no-stream` is accepted and starts the stream again, numbered after the
 *   deleted events, which stay hidden (`$tb` set to the first new revision);
 * - so is an append expecting the exact last revision from before the delete: it undeletes
 *   the stream. A rotation that read the key just before an erasure would bring the erased
 *   key back. Hence `DataKeyDestroyed`: it moves the revision on before the delete, so such
 *   an append fails on its expected revision;
 * - writing metadata to it also undeletes it: empty (`$tb` past the last event), but now
 *   refusing `no-stream`; create then appends at the revision the server reports;
 * - soft-deleting it again succeeds again (so `destroy` cannot tell from that whether there
 *   was a key); a soft delete replaces all the stream's metadata, `$maxCount` included, with
 *   `$tb` alone, so the next key's stream is capped again when it is made.
 *
 * These streams are no domain events: the event store leaves them out of its `$all` reads
 * and subscription (DOMAIN_STREAM_NAME in filteredReadAll.ts), so projections and the audit
 * never see them. Every read asks for the leader, as the event store's do: a key just made
 * is a key found.
 *
 * About 400 lines in one file, on purpose: every operation guards against one of the server
 * behaviours above, and they read best next to that list; the client plumbing it shares with
 * the event store is imported from `eventStore/esdb`.
 */

const streamOf = (userId: string) => `${DATA_KEY_STREAM_PREFIX}${userId}`;

const CREATED = 'DataKeyCreated';
const REWRAPPED = 'DataKeyRewrapped';
const DESTROYED = 'DataKeyDestroyed';

/** Events asked of the server per read of `$all` while listing. */
const LIST_PAGE_SIZE = 1_000;

/** Tries of one create or destroy against writers that keep moving the stream on. */
const ATTEMPTS = 5;

const _LEADER = { requiresLeader: true } as const;

/** The stream as its last event leaves it. */
type Head =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly key: WrappedDataKey; readonly revision: bigint }
  | { readonly kind: 'destroyed'; readonly revision: bigint };

const NONE: Head = { kind: 'none' };

export class MalformedKeyEventError extends Error {
  override readonly name = 'MalformedKeyEventError';
}

function keyOf(userId: string, type: string, data: unknown): WrappedDataKey {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const text = (name: string): string => {
    const value = fields[name];
    if (typeof value !== 'string' || value === '') {
      throw new MalformedKeyEventError(`${type} in ${streamOf(userId)} has no ${name}`);
    }
    return value;
  };
  return {
    userId,
    dataKeyId: text('dataKeyId'),
    wrappingKeyId: text('wrappingKeyId'),
    wrapped: text('wrapped'),
    createdAt: text('createdAt'),
  };
}

const keyEvent = (type: typeof CREATED | typeof REWRAPPED, key: WrappedDataKey) =>
  jsonEvent({
    type,
    data: {
      dataKeyId: key.dataKeyId,
      wrappingKeyId: key.wrappingKeyId,
      wrapped: key.wrapped,
      createdAt: key.createdAt,
    },
  });

export function openEsdbKeyStore(connectionString: string): KeyStore {
  const { client, settings } = connectEsdb(connectionString);
  return esdbKeyStoreOver(client, settings);
}

/** The adapter over a client the caller made. */
export function esdbKeyStoreOver(client: EventStoreDBClient, settings: ConnectionSettings): KeyStore {
  let closing: Promise<void> | undefined;
  const closedError = (cause?: unknown) =>
    new StoreUnavailableError(
      'the EventStoreDB key store is closed',
      cause === undefined ? undefined : { cause },
    );
  // The client would quietly reconnect after dispose(); a closed store must say so instead.
  const assertOpen = () => {
    if (closing !== undefined) throw closedError();
  };
  const failure = (operation: string, error: unknown): unknown => {
    if (closing !== undefined) return error instanceof StoreUnavailableError ? error : closedError(error);
    return toPortError(operation, error);
  };
  // One second on top of the server-side deadline, so that the server's own answer wins
  // whenever the server is there to give it (as the event store's appends).
  const unary = <T>(operation: string, call: Promise<T>) =>
    withDeadline(operation, settings.defaultDeadlineMs + 1_000, call);

  /** The last event of a stream, or undefined when it has none to read (absent, soft-deleted). */
  async function lastEvent(stream: string, operation: string): Promise<ResolvedEvent['event']> {
    try {
      return await readLastEvent(client, stream, { operation, idleMs: settings.defaultDeadlineMs });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      // Tombstoned by an operator: no key, and none can ever be kept there again.
      if (error instanceof EsdbStreamDeletedError) return undefined;
      throw failure(operation, error);
    }
  }

  async function head(userId: string): Promise<Head> {
    assertOpen();
    const event = await lastEvent(streamOf(userId), 'read data key');
    if (event === undefined) return NONE;
    switch (event.type) {
      case CREATED:
      case REWRAPPED:
        return { kind: 'key', key: keyOf(userId, event.type, event.data), revision: event.revision };
      case DESTROYED:
        return { kind: 'destroyed', revision: event.revision };
      default:
        throw new MalformedKeyEventError(`unexpected ${event.type} in ${streamOf(userId)}`);
    }
  }

  async function append(
    stream: string,
    event: ReturnType<typeof jsonEvent>,
    expectedRevision: AppendExpectedRevision,
  ): Promise<bigint> {
    assertOpen();
    try {
      const result = await unary(
        'append data key',
        client.appendToStream(stream, event, { expectedRevision }),
      );
      return result.nextExpectedRevision;
    } catch (error) {
      if (error instanceof WrongExpectedVersionError && closing === undefined) throw error;
      if (error instanceof EsdbStreamDeletedError) throw new StreamDeletedError(stream, 'tombstoned');
      throw failure('append data key', error);
    }
  }

  /**
   * Caps the stream at its last event (`$maxCount: 1`), keeping whatever else its metadata
   * says. Why: a rotation re-wraps every key under the new instance key and the old one is
   * then retired; the previous wrapping, under that retired key, is no longer needed and must
   * become scavengeable, not stay in the stream for as long as the user exists.
   *
   * Left as it is when soft-deleted (writing would undelete the stream) or already capped.
   * Written only if the metadata did not change since it was read (a destroy meanwhile); the
   * client's getStreamMetadata reports a log position as `metastreamRevision`, so the
   * metadata stream is read directly for its revision.
   */
  async function capAtOneEvent(stream: string): Promise<void> {
    const last = await lastEvent(`$$${stream}`, 'read data key stream metadata');
    let metadata: Record<string, unknown> = {};
    if (last !== undefined) {
      if (typeof last.data !== 'object' || last.data === null || last.data instanceof Uint8Array) return;
      metadata = last.data as Record<string, unknown>;
      if (isSoftDeletedMetadata({ truncateBefore: metadata.$tb }) || metadata.$maxCount === 1) return;
    }
    const { $maxCount: _replaced, ...kept } = metadata;
    assertOpen();
    try {
      await unary(
        'write data key stream metadata',
        client.setStreamMetadata(
          stream,
          { ...kept, maxCount: 1 },
          { expectedRevision: last === undefined ? NO_STREAM : last.revision },
        ),
      );
    } catch (error) {
      // Changed meanwhile: destroyed (nothing to cap), or capped by another instance.
      if (error instanceof WrongExpectedVersionError && closing === undefined) return;
      throw failure('write data key stream metadata', error);
    }
  }

  return {
    async get(userId) {
      const found = await head(userId);
      return found.kind === 'key' ? found.key : null;
    },

    async create(key) {
      const stream = streamOf(key.userId);
      // `no-stream` holds for a stream never written and for a soft-deleted one (a user who
      // enrolls again after an erasure); otherwise the expected revision the server reported.
      let expected: AppendExpectedRevision = NO_STREAM;
      for (let attempt = 1; ; attempt += 1) {
        try {
          await append(stream, keyEvent(CREATED, key), expected);
          await capAtOneEvent(stream);
          return key;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError) || attempt === ATTEMPTS) throw error;
          const found = await head(key.userId);
          if (found.kind === 'key') return found.key;
          // Destroyed but not yet deleted, or undeleted empty by a metadata write.
          expected = found.kind === 'destroyed' ? found.revision : error.actualVersion;
        }
      }
    },

    async rewrap(userId, dataKeyId, expectedWrappingKeyId, next) {
      const found = await head(userId);
      if (
        found.kind !== 'key' ||
        found.key.dataKeyId !== dataKeyId ||
        found.key.wrappingKeyId !== expectedWrappingKeyId
      ) {
        return false;
      }
      const stream = streamOf(userId);
      // Before the new wrapping exists, so the old one is never the only one left uncapped.
      await capAtOneEvent(stream);
      try {
        await append(stream, keyEvent(REWRAPPED, { ...found.key, ...next }), found.revision);
        return true;
      } catch (error) {
        // Re-wrapped, destroyed or replaced since it was read.
        if (error instanceof WrongExpectedVersionError) return false;
        throw error;
      }
    },

    async destroy(userId) {
      const stream = streamOf(userId);
      for (let attempt = 1; ; attempt += 1) {
        const found = await head(userId);
        if (found.kind === 'none') return false;
        let revision = found.revision;
        if (found.kind === 'key') {
          try {
            revision = await append(
              stream,
              jsonEvent({ type: DESTROYED, data: { dataKeyId: found.key.dataKeyId } }),
              found.revision,
            );
          } catch (error) {
            if (!(error instanceof WrongExpectedVersionError) || attempt === ATTEMPTS) throw error;
            continue;
          }
        }
        // From here on the key is unreadable; the delete hides the stream's events, all of
        // them scavengeable. A `destroyed` head is an erasure interrupted before this step.
        assertOpen();
        try {
          await unary('delete data key stream', client.deleteStream(stream, { expectedRevision: revision }));
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError) || closing !== undefined) {
            throw failure('delete data key stream', error);
          }
          // A new key was made right after the marker: that one stays; the destroyed one is
          // behind it, scavengeable once the stream is capped.
          await capAtOneEvent(stream);
        }
        return found.kind === 'key';
      }
    },

    all() {
      return listAll();
    },

    close() {
      closing ??= client.dispose();
      return closing;
    },
  };

  /**
   * Every user with a key stream, from `$all` filtered by the server on the stream prefix
   * (each user's events appear there once per write, destroyed streams' too, until a
   * scavenge), then each user's current key. Page by page, so no read of `$all` stays open
   * while the caller works on what was yielded.
   */
  async function* listAll(): AsyncGenerator<WrappedDataKey> {
    const seen = new Set<string>();
    let cursor = 0n;
    for (;;) {
      assertOpen();
      const fresh: string[] = [];
      const read = readAllFiltered(client, {
        fromPosition: readAllStart(cursor),
        maxCount: LIST_PAGE_SIZE,
        streamNamePrefix: DATA_KEY_STREAM_PREFIX,
      });
      let count = 0;
      try {
        for await (const resolved of itemsOf<AllStreamResolvedEvent>(new WatchedStream(read), {
          operation: 'list data keys',
          cancel: () => read.cancel(),
          idleMs: settings.defaultDeadlineMs,
        })) {
          count += 1;
          const event = resolved.event;
          if (event === undefined) continue;
          // Inclusive start: the event at the cursor comes again.
          const position = allPositionOf(event, resolved.commitPosition);
          if (position <= cursor) continue;
          cursor = position;
          if (!event.streamId.startsWith(DATA_KEY_STREAM_PREFIX)) continue;
          const userId = event.streamId.slice(DATA_KEY_STREAM_PREFIX.length);
          if (seen.has(userId)) continue;
          seen.add(userId);
          fresh.push(userId);
        }
      } catch (error) {
        throw failure('list data keys', error);
      }
      for (const userId of fresh) {
        const found = await head(userId);
        if (found.kind === 'key') yield found.key;
      }
      if (count < LIST_PAGE_SIZE) return;
    }
  }
}
