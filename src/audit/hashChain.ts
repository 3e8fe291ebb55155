import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.ts';

/** The hash of the (absent) event before a stream's first one. */
export const GENESIS_HASH = '0'.repeat(64);

/** Metadata key under which each event carries its link in its stream's chain. */
export const HASH_KEY = 'hash';

/**
 * Tamper evidence: each event's hash covers the previous event's hash in the same stream
 * and the event's stream, revision, type, data and metadata (without the hash itself). An
 * edit of any stored byte, a deletion or a reordering breaks every later link.
 */
export function chainHash(input: {
  readonly previousHash: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}): string {
  const { [HASH_KEY]: _ignored, ...metadata } = input.metadata;
  return createHash('sha256')
    .update(
      canonicalJson({
        previousHash: input.previousHash,
        streamName: input.streamName,
        revision: input.revision.toString(),
        type: input.type,
        data: input.data,
        metadata,
      }),
    )
    .digest('hex');
}
