import { describe, expect, it } from 'vitest';
import {
  formatHeads,
  HEADS_FORMAT,
  type HeadsDocument,
  MalformedHeadsError,
  parseHeads,
} from './streamHeads.ts';

const hash = (digit: string) => digit.repeat(64);

const document: HeadsDocument = {
  takenAt: '2026-01-31T12:00:00.000Z',
  position: 18446744073709551615n,
  streams: new Map([
    ['two-factor-bob', { revision: 104n, hash: hash('b') }],
    ['two-factor-ada', { revision: 5n, hash: hash('a') }],
  ]),
};

/** A valid document's JSON with one part replaced. */
const withChange = (change: Record<string, unknown>) =>
  JSON.stringify({ ...JSON.parse(formatHeads(document)), ...change });

describe('the heads document', () => {
  it('is JSON with the format tag, bigints as decimal strings and the streams in name order', () => {
    const text = formatHeads(document);
    expect(JSON.parse(text)).toEqual({
      format: HEADS_FORMAT,
      takenAt: '2026-01-31T12:00:00.000Z',
      position: '18446744073709551615',
      streams: {
        'two-factor-ada': { revision: '5', hash: hash('a') },
        'two-factor-bob': { revision: '104', hash: hash('b') },
      },
    });
    expect(Object.keys(JSON.parse(text).streams)).toEqual(['two-factor-ada', 'two-factor-bob']);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('reads back what it wrote, a stream named "__proto__" included', () => {
    expect(parseHeads(formatHeads(document))).toEqual(document);
    const odd: HeadsDocument = {
      ...document,
      streams: new Map([['__proto__', { revision: 0n, hash: hash('c') }]]),
    };
    expect([...parseHeads(formatHeads(odd)).streams]).toEqual([...odd.streams]);
  });

  it('reads the heads of an empty log', () => {
    const empty: HeadsDocument = { takenAt: document.takenAt, position: 0n, streams: new Map() };
    expect(parseHeads(formatHeads(empty))).toEqual(empty);
  });

  it.each([
    ['text that is not JSON', '{"secret": JBSWY3DPEHPK3PXP', /^it is not JSON$/],
    ['a JSON array', '[]', /not a JSON object/],
    ['another format', withChange({ format: 'two-factor-heads/2' }), /format must be "two-factor-heads\/1"/],
    ['no format', withChange({ format: undefined }), /format must be/],
    ['a time that is not ISO 8601', withChange({ takenAt: 'yesterday' }), /takenAt must be an ISO 8601/],
    ['a time that does not exist', withChange({ takenAt: '2026-02-30T99:00:00Z' }), /takenAt is not a time/],
    ['a position as a number', withChange({ position: 12 }), /position must be a decimal number/],
    ['a negative position', withChange({ position: '-1' }), /position must be a decimal number/],
    ['no streams', withChange({ streams: undefined }), /streams must be an object/],
    [
      'a stream that is not an object',
      withChange({ streams: { s: 'x' } }),
      /streams\["s"\] must be an object/,
    ],
    [
      'a revision with a sign',
      withChange({ streams: { s: { revision: '+1', hash: hash('a') } } }),
      /streams\["s"\]\.revision must be a decimal number/,
    ],
    [
      'an uppercase hash',
      withChange({ streams: { s: { revision: '1', hash: hash('A') } } }),
      /streams\["s"\]\.hash must be 64 lowercase hexadecimal digits/,
    ],
    [
      'a short hash',
      withChange({ streams: { s: { revision: '1', hash: 'abc' } } }),
      /streams\["s"\]\.hash must be 64/,
    ],
    [
      'an empty stream name',
      withChange({ streams: { '': { revision: '1', hash: hash('a') } } }),
      /must not be empty/,
    ],
  ])('refuses %s, saying what is wrong', (_label, text, message) => {
    expect(() => parseHeads(text)).toThrow(MalformedHeadsError);
    expect(() => parseHeads(text)).toThrow(message);
  });

  it('never quotes the text it refuses: the file named may hold anything', () => {
    const failure = (() => {
      try {
        parseHeads('{"format": "two-factor-heads/1", JBSWY3DPEHPK3PXP');
      } catch (error) {
        return error as Error;
      }
    })();
    expect(failure?.message).not.toContain('JBSWY3DPEHPK3PXP');
  });
});
