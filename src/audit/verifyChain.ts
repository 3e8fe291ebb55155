import { type EventStore, type RecordedEvent, StoreUnavailableError } from '../eventStore/eventStore.ts';
import { chainHash, GENESIS_HASH } from './hashChain.ts';
import { linkOf } from './storedMetadata.ts';
import type { StreamHead } from './streamHeads.ts';
import type { ReachedHeads } from './verifyAgainstHeads.ts';

/** Where the history stops being the one that was recorded: the first event whose link fails. */
export type BrokenLink = {
  readonly streamName: string;
  readonly revision: bigint;
  readonly position: bigint;
  readonly reason: string;
};

/** `Extra` is what an intact walk reports besides its counts: the heads, when asked for. */
export type ChainVerdict<Extra = unknown> =
  | ({ readonly ok: true; readonly checked: number; readonly streams: number } & Extra)
  | { readonly ok: false; readonly checked: number; readonly brokenAt: BrokenLink };

export type VerifyChainOptions = {
  readonly onProgress?: (checked: number) => void;
  /** also return the heads the walk reached (`heads` of an intact verdict) */
  readonly heads?: boolean;
  /**
   * Saved heads (see `verifyAgainstHeads`): as the walk passes each one's revision it keeps
   * the hash found there, returned as `heads.anchoredHashes`. Only used with `heads: true`.
   */
  readonly anchors?: ReadonlyMap<string, StreamHead>;
};

/**
 * The log could not be read past `afterPosition`: a stored event is no longer parseable (its
 * bytes were edited into something that is not JSON). That is as much a broken history as a
 * wrong hash, but there is no stream or revision to name. The cause is kept for debugging and
 * deliberately left out of the message: a JSON parser quotes the text it choked on, and that
 * text may hold sealed secrets or recovery-code digests.
 */
export class UnreadableEventError extends Error {
  override readonly name = 'UnreadableEventError';
  constructor(
    readonly afterPosition: bigint,
    options: { cause: unknown },
  ) {
    super(
      `the event after position ${afterPosition} cannot be read (${describeCause(options.cause)})`,
      options,
    );
  }
}

const describeCause = (cause: unknown): string =>
  cause instanceof SyntaxError ? 'its data or metadata is not valid JSON' : 'unreadable';

/** What the next event of a stream must link to; one per stream, so memory grows with streams, not events. */
type StreamLink = { readonly nextRevision: bigint; readonly previousHash: string };

const FIRST_LINK: StreamLink = { nextRevision: 0n, previousHash: GENESIS_HASH };

/** Why `event` does not continue its stream's chain, or null when it does. */
function brokenLinkReason(event: RecordedEvent, link: StreamLink): string | null {
  if (event.revision !== link.nextRevision) {
    if (link.nextRevision === 0n) {
      return `the stream starts at revision ${event.revision}, not 0: its first events are missing`;
    }
    if (event.revision > link.nextRevision) {
      return `revision ${event.revision} follows revision ${link.nextRevision - 1n}: events are missing in between`;
    }
    return `revision ${event.revision} appears after revision ${link.nextRevision - 1n}: events are duplicated or out of order`;
  }
  const recorded = linkOf(event.metadata);
  if (recorded === undefined) {
    return 'the event carries no hash: it was not written by this service, or its hash was removed';
  }
  const expected = chainHash({
    previousHash: link.previousHash,
    streamName: event.streamName,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });
  if (expected !== recorded) {
    return "hash mismatch: the event's type, data or metadata, or the hash of the event before it, is not what was written";
  }
  return null;
}

/**
 * Tamper evidence: walks the whole log in global order and checks every event's link in its
 * stream's hash chain (see `chainHash`), stopping at the first one that fails — later links
 * of a damaged stream tell nothing new. An edited byte, a deleted, inserted or reordered
 * event breaks a link. What a chain alone cannot show: a stream's newest events cut off,
 * and — the hash being unkeyed SHA-256 — a stream rewritten by someone who also recomputes
 * every hash from the edit on; comparing stream heads with a copy kept elsewhere would
 * (`heads` and `anchors` below, `verifyAgainstHeads`).
 *
 * Each event is checked against the hash its predecessor *recorded*, so an edit is reported
 * at the edited event and not again at every event after it.
 */
export async function verifyChain(
  store: EventStore,
  options: VerifyChainOptions & { readonly heads: true },
): Promise<ChainVerdict<{ readonly heads: ReachedHeads }>>;
export async function verifyChain(store: EventStore, options?: VerifyChainOptions): Promise<ChainVerdict>;
export async function verifyChain(
  store: EventStore,
  options: VerifyChainOptions = {},
): Promise<ChainVerdict<{ readonly heads?: ReachedHeads }>> {
  const links = new Map<string, StreamLink>();
  const anchoredHashes = new Map<string, string>();
  let checked = 0;
  let lastPosition = 0n;
  const events = store.readAll()[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<RecordedEvent>;
    try {
      next = await events.next();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new UnreadableEventError(lastPosition, { cause: error });
    }
    if (next.done) break;
    const event = next.value;
    const link = links.get(event.streamName) ?? FIRST_LINK;
    const reason = brokenLinkReason(event, link);
    if (reason !== null) {
      await events.return?.();
      return {
        ok: false,
        checked,
        brokenAt: {
          streamName: event.streamName,
          revision: event.revision,
          position: event.position,
          reason,
        },
      };
    }
    const hash = linkOf(event.metadata)!;
    links.set(event.streamName, { nextRevision: event.revision + 1n, previousHash: hash });
    // Compared only after the walk: a cut-off stream never reaches its anchor at all.
    if (options.anchors?.get(event.streamName)?.revision === event.revision) {
      anchoredHashes.set(event.streamName, hash);
    }
    checked += 1;
    lastPosition = event.position;
    options.onProgress?.(checked);
  }
  const verdict = { ok: true, checked, streams: links.size } as const;
  if (!options.heads) return verdict;
  // The links already hold each stream's head: the next revision's predecessor and its hash.
  const streams = new Map<string, StreamHead>();
  for (const [name, link] of links) {
    streams.set(name, { revision: link.nextRevision - 1n, hash: link.previousHash });
  }
  return { ...verdict, heads: { position: lastPosition, streams, anchoredHashes } };
}
