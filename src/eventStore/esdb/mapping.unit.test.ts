import type { RecordedEvent as EsdbRecordedEvent } from '@eventstore/db-client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../eventStore.ts';
import {
  isSystemEvent,
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

const esdbEvent = (overrides: Partial<Record<keyof EsdbRecordedEvent, unknown>> = {}): EsdbRecordedEvent =>
  ({
    streamId: 'two-factor-u1',
    id: '5f0b1a9e-3c0d-4e53-9a55-0b8f0c6a4f11',
    isJson: true,
    revision: 3n,
    type: 'TwoFactorEnabled',
    created: new Date('2025-01-02T03:04:05.678Z'),
    data: { enabled: true },
    metadata: { correlationId: 'c-1', $correlationId: 'c-1' },
    position: { commit: 4242n, prepare: 4242n },
    ...overrides,
  }) as EsdbRecordedEvent;

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
    expect(positionOf(esdbEvent())).toBe(4242n);
  });

  it('falls back to the resolved commit position when the server sent no event position', () => {
    expect(positionOf(esdbEvent({ position: undefined }), 99n)).toBe(99n);
  });

  it('refuses to invent a position when the server sent none', () => {
    expect(() => positionOf(esdbEvent({ position: undefined }))).toThrow(UnaddressablePositionError);
    expect(() => positionOf(esdbEvent({ position: undefined }))).toThrow(/22\.6 or later/);
  });

  it('refuses events of explicit transactions, whose commit and prepare positions differ', () => {
    const legacy = esdbEvent({ position: { commit: 500n, prepare: 420n } });
    expect(() => positionOf(legacy)).toThrow(UnaddressablePositionError);
  });
});

describe('$correlationId and $causationId', () => {
  it('adds the $ twins of correlationId and causationId on write, without changing the input', () => {
    const metadata = { correlationId: 'c-1', causationId: 'e-0', actor: { role: 'web' } };

    const written = withEsdbTracingMetadata(metadata);

    expect(written).toEqual({ ...metadata, $correlationId: 'c-1', $causationId: 'e-0' });
    expect(metadata).not.toHaveProperty('$correlationId');
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
    expect(toRecordedEvent(esdbEvent())).toEqual({
      id: '5f0b1a9e-3c0d-4e53-9a55-0b8f0c6a4f11',
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
    expect(toRecordedEvent(esdbEvent({ metadata: undefined })).metadata).toEqual({});
  });

  it('parses JSON that arrives as bytes', () => {
    const bytes = new Uint8Array(Buffer.from('{"a":[1,"ü"]}', 'utf8'));
    const event = toRecordedEvent(esdbEvent({ isJson: false, data: bytes, metadata: bytes }));
    expect(event.data).toEqual({ a: [1, 'ü'] });
    expect(event.metadata).toEqual({ a: [1, 'ü'] });
  });

  it('refuses data that is not a JSON object', () => {
    expect(() => toRecordedEvent(esdbEvent({ data: [1, 2] }))).toThrow(/not a JSON object/);
    expect(() => toRecordedEvent(esdbEvent({ data: 'text' }))).toThrow(/not a JSON object/);
    expect(() => toRecordedEvent(esdbEvent({ data: new Uint8Array([0xff, 0x00]) }))).toThrow(
      /not a JSON object/,
    );
  });
});
