import { createHash } from 'node:crypto';
import { canonicalJson } from './canonicalJson.ts';
import { linkedMetadata } from './storedMetadata.ts';

/** The hash of the (absent) event before a stream's first one. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Tamper evidence: each event's hash covers the previous event's hash in the same stream
 * and the event's stream, revision, type, data and metadata as stored, without the link
 * itself (`storedMetadata.ts`: either version). An edit of any stored byte, a deletion or a
 * reordering breaks every later link. Hashes are written and compared as 64 hexadecimal
 * digits, whichever form the stored metadata keeps them in.
 */
export function chainHash(input: {
  readonly previousHash: string;
  readonly streamName: string;
  readonly revision: bigint;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
}): string {
  const metadata = linkedMetadata(input.metadata);
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
