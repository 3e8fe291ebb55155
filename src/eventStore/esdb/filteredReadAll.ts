import type {
  AllStreamResolvedEvent,
  BaseOptions,
  EventStoreDBClient,
  ReadPosition,
} from '@eventstore/db-client';
import { ReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream.js';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpcPb from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type { ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { CallOptions, ClientReadableStream, Metadata } from '@grpc/grpc-js';

/*
 * A forward read of `$all` that the server filters.
 *
 * Why: client 6.2.1's readAll always asks for NoFilter, so with the standard projections on
 * every user event comes with several link events ($ce-, $et-, $bc- streams) and the server's
 * own statistics, all sent, decoded and dropped here. The protocol has the filter (a read of
 * $all with FilterOptions is answered by ReadAllForwardsFiltered, which reads on until it has
 * `count` matching events or reaches the end of the log); only the client's readAll leaves it
 * out. This builds the same request with a filter on stream names (the subscription of the
 * event store uses the same one) and reads it through the client's connection, the way the
 * client defines its own operations (Client.prototype.readAll in streams/readAll.js). The
 * client is pinned to exactly 6.2.1 for this reason.
 */

const { ReadReq } = streamsPb;
const { Empty } = sharedPb;
const { StreamsClient } = streamsGrpcPb;
type StreamsClient = InstanceType<typeof StreamsClient>;

/** The streams of the key store (src/keys/esdbKeyStore.ts): wrapped data keys, not domain events. */
export const DATA_KEY_STREAM_PREFIX = 'data-key-';

/**
 * The streams whose events the event store delivers, as a regex on stream names: neither
 * EventStoreDB's own (`$…`: metadata, the links and statistics of its projections) nor the
 * key store's, whose events carry wrapped keys and are no part of the domain's history.
 */
export const DOMAIN_STREAM_NAME = `^(?!\\$|${DATA_KEY_STREAM_PREFIX})`;

export type FilteredReadAllOptions = {
  readonly fromPosition: ReadPosition;
  readonly maxCount: number;
  /** only the streams whose names start with it, instead of those of DOMAIN_STREAM_NAME */
  readonly streamNamePrefix?: string;
};

/** The request: forward from `fromPosition` (inclusive, like any read of $all), at most `maxCount` matches. */
export function filteredReadAllRequest({
  fromPosition,
  maxCount,
  streamNamePrefix,
}: FilteredReadAllOptions): InstanceType<typeof ReadReq> {
  if (!Number.isSafeInteger(maxCount) || maxCount <= 0)
    throw new RangeError('maxCount must be a positive integer');
  const options = new ReadReq.Options();
  const all = new ReadReq.Options.AllOptions();
  if (fromPosition === 'start') {
    all.setStart(new Empty());
  } else if (fromPosition === 'end') {
    all.setEnd(new Empty());
  } else {
    const position = new ReadReq.Options.Position();
    position.setCommitPosition(fromPosition.commit.toString(10));
    position.setPreparePosition(fromPosition.prepare.toString(10));
    all.setPosition(position);
  }
  options.setAll(all);
  options.setResolveLinks(false);
  options.setCount(maxCount.toString(10));
  const uuid = new ReadReq.Options.UUIDOption();
  uuid.setString(new Empty());
  options.setUuidOption(uuid);
  options.setReadDirection(ReadReq.Options.ReadDirection.FORWARDS);
  const expression = new ReadReq.Options.FilterOptions.Expression();
  if (streamNamePrefix === undefined) expression.setRegex(DOMAIN_STREAM_NAME);
  else expression.addPrefix(streamNamePrefix);
  const filter = new ReadReq.Options.FilterOptions();
  filter.setStreamIdentifier(expression);
  // The server's default search window (its read batch); it reads on until `count` match.
  filter.setCount(new Empty());
  filter.setCheckpointintervalmultiplier(1);
  options.setFilter(filter);
  const request = new ReadReq();
  request.setOptions(options);
  return request;
}

/** The part of the client this needs: protected in its typings, used as its own operations use it. */
type ClientInternals = {
  GRPCStreamCreator(
    client: typeof StreamsClient,
    debugName: string,
    creator: (grpc: StreamsClient) => ClientReadableStream<ReadResp>,
  ): () => Promise<ClientReadableStream<ReadResp>>;
  callArguments(options: BaseOptions, callOptions?: { deadline?: number }): [Metadata, CallOptions];
};

/**
 * Reads `$all` forward with the server-side filter, through the client's own ReadStream (so it
 * fails, ends and cancels exactly like the client's readAll). Asks for the leader, like every
 * read of this adapter.
 */
export function readAllFiltered(
  client: EventStoreDBClient,
  options: FilteredReadAllOptions,
): ReadStream<AllStreamResolvedEvent> {
  const internals = client as unknown as ClientInternals;
  const request = filteredReadAllRequest(options);
  const createGrpcStream = internals.GRPCStreamCreator(StreamsClient, 'readAll', (grpc) =>
    grpc.read(
      request,
      ...internals.callArguments({ requiresLeader: true }, { deadline: Number.POSITIVE_INFINITY }),
    ),
  );
  return new ReadStream<AllStreamResolvedEvent>(createGrpcStream, convertGrpcEvent, {});
}
