import { excludeSystemEvents, START } from '@eventstore/db-client';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { describe, expect, it } from 'vitest';
import { filteredReadAllRequest, NON_SYSTEM_EVENT_TYPE } from './filteredReadAll.ts';

const { ReadReq } = streamsPb;

/** The request as the server receives it: through the wire format. */
const onTheWire = (request: InstanceType<typeof ReadReq>) =>
  ReadReq.deserializeBinary(request.serializeBinary()).getOptions()!;

describe('the filtered read of $all', () => {
  it("asks the server to leave out system events, with the client's own excludeSystemEvents() rule", () => {
    const options = onTheWire(filteredReadAllRequest({ fromPosition: START, maxCount: 10 }));

    expect(options.hasFilter()).toBe(true);
    expect(options.hasNoFilter()).toBe(false);
    const filter = options.getFilter()!;
    expect(filter.hasEventType()).toBe(true);
    const rule = excludeSystemEvents();
    expect('regex' in rule && rule.regex).toBe(NON_SYSTEM_EVENT_TYPE);
    expect(filter.getEventType()!.getRegex()).toBe(NON_SYSTEM_EVENT_TYPE);
    expect(new RegExp(NON_SYSTEM_EVENT_TYPE).test('$>')).toBe(false);
    expect(new RegExp(NON_SYSTEM_EVENT_TYPE).test('TwoFactorEnabled')).toBe(true);
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
