import { describe, expect, it } from 'vitest';
import { assertAppendInput } from './appendInput.ts';
import type { EventToAppend } from './eventStore.ts';
import { maxCountOf, nonNegativeBigint } from './readOptions.ts';

const ID = '5f0b1a9e-3c0d-4e53-9a55-0b8f0c6a4f11';
const event = (overrides: Partial<Record<keyof EventToAppend, unknown>> = {}) =>
  ({ id: ID, type: 'Happened', data: {}, metadata: {}, ...overrides }) as EventToAppend;

describe('assertAppendInput', () => {
  it('accepts a well-formed append', () => {
    expect(() => assertAppendInput('s', [event()], 'no-stream')).not.toThrow();
    expect(() => assertAppendInput('s', [event()], 3n)).not.toThrow();
  });

  it('refuses what EventStoreDB would answer with an opaque error, or accept as a no-op', () => {
    expect(() => assertAppendInput('s', [], 'any')).toThrow(/at least one event/);
    expect(() => assertAppendInput('', [event()], 'any')).toThrow(/streamName/);
    expect(() => assertAppendInput('s', [event({ id: 'e-1' })], 'any')).toThrow(/not a UUID/);
    expect(() => assertAppendInput('s', [event(), event({ id: ID.toUpperCase() })], 'any')).toThrow(/twice/);
    expect(() => assertAppendInput('s', [event({ type: '' })], 'any')).toThrow(/no type/);
    expect(() => assertAppendInput('s', [event({ data: [1] })], 'any')).toThrow(/data must be a JSON object/);
    expect(() => assertAppendInput('s', [event({ metadata: null })], 'any')).toThrow(/metadata/);
    expect(() => assertAppendInput('s', [event({ data: { n: 1n } })], 'any')).toThrow(
      /not JSON-serializable/,
    );
  });

  it('refuses an expected revision that could never match', () => {
    expect(() => assertAppendInput('s', [event()], 0)).toThrow(/expectedRevision/);
    expect(() => assertAppendInput('s', [event()], -1n)).toThrow(/-1n/);
    expect(() => assertAppendInput('s', [event()], 'no_stream')).toThrow(/expectedRevision/);
  });
});

describe('read options', () => {
  it('takes a missing maxCount as no limit and refuses nonsense', () => {
    expect(maxCountOf(undefined)).toBe(Number.POSITIVE_INFINITY);
    expect(maxCountOf(0)).toBe(0);
    expect(() => maxCountOf(-1)).toThrow(RangeError);
    expect(() => maxCountOf(1.5)).toThrow(RangeError);
  });

  it('accepts only non-negative bigints as revisions and positions', () => {
    expect(nonNegativeBigint(0n, 'after')).toBe(0n);
    expect(() => nonNegativeBigint(-1n, 'after')).toThrow(/after/);
    expect(() => nonNegativeBigint(5, 'fromRevision')).toThrow(/fromRevision/);
  });
});
