import { START } from '@eventstore/db-client';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { describe, expect, it } from 'vitest';
import { POLICY_STREAM } from '../../domain/policy/policy.ts';
import { STREAM_PREFIX } from '../../domain/twoFactor/decider.ts';
import { DATA_KEY_STREAM_PREFIX, DOMAIN_STREAM_NAME, filteredReadAllRequest } from './filteredReadAll.ts';

const { ReadReq } = streamsPb;

/** The request as the server receives it: through the wire format. */
const onTheWire = (request: InstanceType<typeof ReadReq>) =>
  ReadReq.deserializeBinary(request.serializeBinary()).getOptions()!;

describe('the filtered read of $all', () => {
  it("asks the server for the domain's streams only: no system streams, no key store streams", () => {
    const options = onTheWire(filteredReadAllRequest({ fromPosition: START, maxCount: 10 }));

    expect(options.hasFilter()).toBe(true);
    expect(options.hasNoFilter()).toBe(false);
    const filter = options.getFilter()!;
    expect(filter.hasStreamIdentifier()).toBe(true);
    expect(filter.hasEventType()).toBe(false);
    expect(filter.getStreamIdentifier()!.getRegex()).toBe(DOMAIN_STREAM_NAME);
    expect(filter.getStreamIdentifier()!.getPrefixList()).toEqual([]);
  });

  it('leaves out the streams whose events carry wrapped data keys, and those of the server', () => {
    // The server matches the regex with .NET's Regex.IsMatch; a lookahead reads the same in JS.
    const delivered = (streamName: string) => new RegExp(DOMAIN_STREAM_NAME).test(streamName);

    expect(DATA_KEY_STREAM_PREFIX).toBe('data-key-');
    expect(delivered('data-key-ada')).toBe(false);
    expect(delivered('data-key-list.1:x@y_z')).toBe(false);
    expect(delivered('data-key-')).toBe(false);
    expect(delivered('$$data-key-ada')).toBe(false);
    expect(delivered('$et-DataKeyCreated')).toBe(false);
    expect(delivered('$ce-data')).toBe(false);
    expect(delivered('$stats-127.0.0.1:2113')).toBe(false);
    expect(delivered(`$$${STREAM_PREFIX}ada`)).toBe(false);

    expect(delivered(`${STREAM_PREFIX}ada`)).toBe(true);
    expect(delivered(`${STREAM_PREFIX}data-key-ada`)).toBe(true);
    expect(delivered(POLICY_STREAM)).toBe(true);
    expect(delivered('data-keys')).toBe(true);
  });

  it('reads only the streams of a prefix when asked (the key store listing its keys)', () => {
    const filter = onTheWire(
      filteredReadAllRequest({ fromPosition: START, maxCount: 10, streamNamePrefix: DATA_KEY_STREAM_PREFIX }),
    ).getFilter()!;

    expect(filter.hasStreamIdentifier()).toBe(true);
    expect(filter.getStreamIdentifier()!.getPrefixList()).toEqual([DATA_KEY_STREAM_PREFIX]);
    expect(filter.getStreamIdentifier()!.getRegex()).toBe('');
  });

  it('reads $all forwards, links unresolved, ids as strings, at most maxCount matches', () => {
    const options = onTheWire(filteredReadAllRequest({ fromPosition: START, maxCount: 250 }));

    expect(options.hasAll()).toBe(true);
    expect(options.getAll()!.hasStart()).toBe(true);
    expect(options.getReadDirection()).toBe(ReadReq.Options.ReadDirection.FORWARDS);
    expect(options.getResolveLinks()).toBe(false);
    expect(options.getUuidOption()!.hasString()).toBe(true);
    expect(options.getCount()).toBe('250');
  });

  it('starts at a given position, as the server reads it (inclusive)', () => {
    const position = { commit: 2n ** 40n + 7n, prepare: 2n ** 40n + 7n };
    const all = onTheWire(filteredReadAllRequest({ fromPosition: position, maxCount: 1 })).getAll()!;

    expect(all.hasPosition()).toBe(true);
    expect(all.getPosition()!.getCommitPosition()).toBe(position.commit.toString());
    expect(all.getPosition()!.getPreparePosition()).toBe(position.prepare.toString());
  });

  it('refuses a count the server would read as "everything" or nothing', () => {
    expect(() => filteredReadAllRequest({ fromPosition: START, maxCount: 0 })).toThrow(RangeError);
    expect(() => filteredReadAllRequest({ fromPosition: START, maxCount: 1.5 })).toThrow(RangeError);
  });
});
