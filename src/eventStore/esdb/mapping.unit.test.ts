import type { RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendAnswers,
  resolvedFromServer,
  type ServerEvent,
} from '../../../test/support/esdbServerMessages.ts';
import { storedMetadataOf } from '../../audit/storedMetadata.ts';
import type { JsonObject } from '../eventStore.ts';
import {
  allPositionOf,
  appendOutcome,
  isSoftDeletedMetadata,
  isSystemEvent,
  NO_POSITION,
  positionOf,
  readAllStart,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toPortActualRevision,
  toRecordedEvent,
  UnaddressablePositionError,
  withEsdbTracingMetadata,
  withoutEsdbTracingMetadata,
} from './mapping.ts';

const ID = '5f0b1a9e-3c0d-4e53-9a55-0b8f0c6a4f11';

/** An event as the client hands it over for what the server sent (see esdbServerMessages.ts). */
const fromServer = (
  overrides: Partial<ServerEvent> = {},
): { event: EsdbRecordedEvent; commitPosition?: bigint } => {
  const resolved = resolvedFromServer({
    streamName: 'two-factor-u1',
    id: ID,
    revision: 3n,
    data: { enabled: true },
    metadata: { correlationId: 'c-1', $correlationId: 'c-1' },
    position: { commit: 4242n, prepare: 4242n },
    originalCommit: 4242n,
    ...overrides,
  });
  if (resolved.event === undefined) throw new Error('no event');
  return { event: resolved.event, commitPosition: resolved.commitPosition };
};

const esdbEvent = (overrides: Partial<ServerEvent> = {}): EsdbRecordedEvent => fromServer(overrides).event;

describe('expected revisions', () => {
  it("maps 'no-stream', 'any' and an exact revision to the client's values", () => {
    expect(toEsdbExpectedRevision('no-stream')).toBe('no_stream');
    expect(toEsdbExpectedRevision('any')).toBe('any');
    expect(toEsdbExpectedRevision(0n)).toBe(0n);
    expect(toEsdbExpectedRevision(41n)).toBe(41n);
  });

  it("maps the actual revision of a WrongExpectedVersionError, including the client's 'no_stream'", () => {
    expect(toPortActualRevision('no_stream')).toBe('no-stream');
    expect(toPortActualRevision(0n)).toBe(0n);
    expect(toPortActualRevision(7n)).toBe(7n);
  });
});

describe('positions', () => {
  it('addresses an event by one number used as both commit and prepare position', () => {
    expect(toEsdbPosition(4242n)).toEqual({ commit: 4242n, prepare: 4242n });
  });

  it('reads $all from the start for no position or 0n, else from the given position', () => {
    expect(readAllStart(undefined)).toBe('start');
    expect(readAllStart(0n)).toBe('start');
    expect(readAllStart(1n)).toEqual({ commit: 1n, prepare: 1n });
    // Larger than 2^64: still exact, as bigint.
    expect(readAllStart(2n ** 70n)).toEqual({ commit: 2n ** 70n, prepare: 2n ** 70n });
  });

  it("takes the event's commit position", () => {
    const { event, commitPosition } = fromServer();
    expect(positionOf(event, commitPosition)).toBe(4242n);
  });

  it('recognises the "no position" the server sends for a stream read (2^64-1), which the client passes on', () => {
    const { event, commitPosition } = fromServer({ position: 'unknown', originalCommit: 'none' });
    // The client's own shape: a position object holding 2^64-1, not undefined.
    expect(event.position).toEqual({ commit: NO_POSITION, prepare: NO_POSITION });
    expect(positionOf(event, commitPosition)).toBeUndefined();
  });

  it('recognises the 0/0 the client fills in when the server sent no position fields', () => {
    const { event, commitPosition } = fromServer({ position: 'unset', originalCommit: 'none' });
    expect(event.position).toEqual({ commit: 0n, prepare: 0n });
    expect(positionOf(event, commitPosition)).toBeUndefined();
  });

  it("falls back to the read event's own commit position when the record has none", () => {
    const { event, commitPosition } = fromServer({ position: 'unknown', originalCommit: 99n });
    expect(positionOf(event, commitPosition)).toBe(99n);
    const unknownToo = fromServer({ position: 'unknown', originalCommit: 2n ** 64n - 1n });
    expect(positionOf(unknownToo.event, unknownToo.commitPosition)).toBeUndefined();
  });

  it('refuses to invent a position for an event read from $all', () => {
    const { event, commitPosition } = fromServer({ position: 'unknown', originalCommit: 'none' });
    expect(() => allPositionOf(event, commitPosition)).toThrow(UnaddressablePositionError);
  });

  it('refuses events of explicit transactions, whose commit and prepare positions differ', () => {
    const legacy = fromServer({ position: { commit: 500n, prepare: 420n } });
    expect(() => positionOf(legacy.event, legacy.commitPosition)).toThrow(UnaddressablePositionError);
  });
});

describe('append answers', () => {
  it('takes the revision and position of a successful append', () => {
    expect(appendOutcome(appendAnswers.success(4n, { commit: 900n, prepare: 900n }))).toEqual({
      kind: 'appended',
      nextExpectedRevision: 4n,
      position: 900n,
    });
  });

  it('leaves the position open when the server sent none or "no position"', () => {
    expect(appendOutcome(appendAnswers.success(4n, undefined))).toMatchObject({ position: undefined });
    const none = { commit: NO_POSITION, prepare: NO_POSITION };
    expect(appendOutcome(appendAnswers.success(4n, none))).toMatchObject({ position: undefined });
  });

  it('never takes success: false for a write, whatever revision it carries', () => {
    for (const answer of [
      appendAnswers.refusedUnary('no-stream'),
      appendAnswers.refusedUnary(0n),
      appendAnswers.refusedUnary(7n),
      appendAnswers.refusedBatch(),
    ]) {
      expect(appendOutcome(answer)).toEqual({ kind: 'refused' });
    }
  });
});

describe('soft-deleted streams', () => {
  it('recognises the metadata of a soft-deleted stream, as the client parses it from JSON', () => {
    // {"$tb": 9223372036854775807}, long.MaxValue, through JSON.parse.
    const parsed = JSON.parse('{"$tb":9223372036854775807}') as { $tb: number };
    expect(isSoftDeletedMetadata({ truncateBefore: parsed.$tb })).toBe(true);
    expect(isSoftDeletedMetadata({ truncateBefore: 12 })).toBe(false);
    expect(isSoftDeletedMetadata({})).toBe(false);
    expect(isSoftDeletedMetadata(undefined)).toBe(false);
  });
});

describe('$correlationId and $causationId', () => {
  it('adds the $ twins of correlationId and causationId on write, without changing the input', () => {
    const metadata = { correlationId: 'c-1', causationId: 'e-0', actor: { role: 'web' } };

    const written = withEsdbTracingMetadata(metadata);

    expect(written).toEqual({ ...metadata, $correlationId: 'c-1', $causationId: 'e-0' });
    expect(metadata).not.toHaveProperty('$correlationId');
  });

  it('adds the twins of the one request id of metadata version 2, and removes them on read', () => {
    const requestId = '3f2a9c1e-7b4d-4e21-9a3c-5d6e7f8091a2';
    const stored = storedMetadataOf({
      correlationId: requestId,
      causationId: requestId,
      actor: { role: 'web', id: null },
    });

    const written = withEsdbTracingMetadata(stored);

    expect(written).toEqual({ ...stored, $correlationId: requestId, $causationId: requestId });
    expect(withoutEsdbTracingMetadata(written)).toEqual(stored);
  });

  it('adds nothing when the ids are absent or not strings', () => {
    expect(withEsdbTracingMetadata({ actor: 'x' })).toEqual({ actor: 'x' });
    expect(withEsdbTracingMetadata({ correlationId: 12 })).toEqual({ correlationId: 12 });
  });

  it("keeps a caller's own $correlationId", () => {
    expect(withEsdbTracingMetadata({ correlationId: 'c-1', $correlationId: 'mine' })).toEqual({
      correlationId: 'c-1',
      $correlationId: 'mine',
    });
  });

  it('removes on read only the twins it could have added', () => {
    expect(
      withoutEsdbTracingMetadata({
        correlationId: 'c',
        $correlationId: 'c',
        causationId: 'e',
        $causationId: 'e',
      }),
    ).toEqual({ correlationId: 'c', causationId: 'e' });
    expect(withoutEsdbTracingMetadata({ correlationId: 'c', $correlationId: 'other' })).toEqual({
      correlationId: 'c',
      $correlationId: 'other',
    });
    expect(withoutEsdbTracingMetadata({ $causationId: 'orphan' })).toEqual({ $causationId: 'orphan' });
  });

  it('gives back exactly the metadata that was written', () => {
    const key = fc.string().filter((name) => !name.startsWith('$'));
    const metadata = fc.record(
      {
        correlationId: fc.oneof(fc.string(), fc.integer()),
        causationId: fc.string(),
        rest: fc.dictionary(key, fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(metadata, ({ rest, ...ids }) => {
        const original = { ...rest, ...ids } as JsonObject;
        // Through JSON, as on the wire.
        const stored = JSON.parse(JSON.stringify(withEsdbTracingMetadata(original)));
        expect(withoutEsdbTracingMetadata(stored)).toEqual(JSON.parse(JSON.stringify(original)));
      }),
    );
  });
});

describe('system events', () => {
  it('recognises $-prefixed event types and streams', () => {
    expect(isSystemEvent({ streamId: '$stats-0.0.0.0:2113', type: '$statsCollected' })).toBe(true);
    expect(isSystemEvent({ streamId: 'two-factor-u1', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamId: '$bc-c1', type: 'SomethingLinked' })).toBe(true);
    expect(isSystemEvent({ streamId: 'two-factor-u1', type: 'TwoFactorEnabled' })).toBe(false);
    expect(isSystemEvent({ streamId: 'price$', type: 'Cost$' })).toBe(false);
  });
});

describe('toRecordedEvent', () => {
  it("maps the client's event to the port's, stripping the $ twins", () => {
    expect(toRecordedEvent(esdbEvent(), 4242n)).toEqual({
      id: ID,
      streamName: 'two-factor-u1',
      revision: 3n,
      position: 4242n,
      type: 'TwoFactorEnabled',
      data: { enabled: true },
      metadata: { correlationId: 'c-1' },
      recordedAt: new Date('2025-01-02T03:04:05.678Z'),
    });
  });

  it('reads absent metadata as an empty object', () => {
    const event = esdbEvent({ metadata: undefined });
    expect(event.metadata).toBeUndefined();
    expect(toRecordedEvent(event, 1n).metadata).toEqual({});
  });

  it('parses JSON that arrives as bytes', () => {
    const bytes = new Uint8Array(Buffer.from('{"a":[1,"ü"]}', 'utf8'));
    const event = toRecordedEvent({ ...esdbEvent(), isJson: false, data: bytes, metadata: bytes }, 1n);
    expect(event.data).toEqual({ a: [1, 'ü'] });
    expect(event.metadata).toEqual({ a: [1, 'ü'] });
  });

  it('refuses data that is not a JSON object', () => {
    expect(() => toRecordedEvent(esdbEvent({ data: [1, 2] }), 1n)).toThrow(/not a JSON object/);
    expect(() => toRecordedEvent(esdbEvent({ data: 'text' }), 1n)).toThrow(/not a JSON object/);
    expect(() =>
      toRecordedEvent({ ...esdbEvent(), isJson: false, data: new Uint8Array([0xff, 0x00]) }, 1n),
    ).toThrow(/not a JSON object/);
  });
});
