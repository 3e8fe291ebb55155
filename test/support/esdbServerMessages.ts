import type { AppendResult, Position, ResolvedEvent } from '@eventstore/db-client';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';

/*
 * Events and answers exactly as @eventstore/db-client 6.2.1 hands them to the adapter: the
 * server's protobuf message, built the way the server builds it (Streams.Read.cs,
 * ConvertToReadEvent and ConvertToRecordedEvent in KurrentDB), then converted by the
 * client's own convertGrpcEvent. No hand-written client objects.
 */

const { ReadResp } = streamsPb;
const { UUID, StreamIdentifier, Empty } = sharedPb;

/** The server's `Position.FromInt64(-1, -1)`: "no position", as an unsigned 64-bit number. */
export const SERVER_NO_POSITION = (2n ** 64n - 1n).toString();

export type ServerEvent = {
  readonly streamName: string;
  readonly id: string;
  readonly revision: bigint;
  readonly type?: string;
  readonly data?: unknown;
  readonly metadata?: unknown;
  readonly created?: Date;
  /**
   * The event's position: a number, 'unknown' (the server sends -1 as unsigned), or
   * 'unset' (the fields left out, as a server that does not fill them).
   */
  readonly position: { readonly commit: bigint; readonly prepare: bigint } | 'unknown' | 'unset';
  /** The ReadEvent's own commit_position (`OriginalPosition`), or `no_position` */
  readonly originalCommit?: bigint | 'none';
};

/** A ResolvedEvent as the client gives it for one ReadResp.ReadEvent from the server. */
export function resolvedFromServer(event: ServerEvent): ResolvedEvent {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new UUID();
  id.setString(event.id);
  recorded.setId(id);
  const stream = new StreamIdentifier();
  stream.setStreamName(Buffer.from(event.streamName, 'utf8'));
  recorded.setStreamIdentifier(stream);
  recorded.setStreamRevision(event.revision.toString());
  if (event.position === 'unknown') {
    recorded.setCommitPosition(SERVER_NO_POSITION);
    recorded.setPreparePosition(SERVER_NO_POSITION);
  } else if (event.position !== 'unset') {
    recorded.setCommitPosition(event.position.commit.toString());
    recorded.setPreparePosition(event.position.prepare.toString());
  }
  const created = event.created ?? new Date('2025-01-02T03:04:05.678Z');
  recorded.getMetadataMap().set('type', event.type ?? 'TwoFactorEnabled');
  recorded.getMetadataMap().set('created', (BigInt(created.getTime()) * 10_000n).toString());
  recorded.getMetadataMap().set('content-type', 'application/json');
  recorded.setData(Buffer.from(JSON.stringify(event.data ?? { enabled: true }), 'utf8'));
  recorded.setCustomMetadata(
    event.metadata === undefined ? new Uint8Array() : Buffer.from(JSON.stringify(event.metadata), 'utf8'),
  );
  const readEvent = new ReadResp.ReadEvent();
  readEvent.setEvent(recorded);
  if (event.originalCommit === undefined || event.originalCommit === 'none') {
    readEvent.setNoPosition(new Empty());
  } else {
    readEvent.setCommitPosition(event.originalCommit.toString());
  }
  // Through the wire format, as the client receives it.
  return convertGrpcEvent(ReadResp.ReadEvent.deserializeBinary(readEvent.serializeBinary()));
}

/**
 * What the client resolves an append with (streams/appendToStream/append.js and
 * batchAppend.js in 6.2.1), for the cases the adapter must tell apart.
 */
export const appendAnswers = {
  success: (revision: bigint, position: Position | undefined): AppendResult => ({
    success: true,
    nextExpectedRevision: revision,
    position,
  }),
  /** throwOnAppendFailure=false, unary append: the stream's revision, or -1n for none */
  refusedUnary: (current: bigint | 'no-stream'): AppendResult => ({
    success: false,
    nextExpectedRevision: current === 'no-stream' ? -1n : current,
    position: undefined,
  }),
  /** throwOnAppendFailure=false, batch append: BigInt(hasCurrentStreamRevision()), i.e. 1n */
  refusedBatch: (): AppendResult => ({ success: false, nextExpectedRevision: 1n, position: undefined }),
} as const;
