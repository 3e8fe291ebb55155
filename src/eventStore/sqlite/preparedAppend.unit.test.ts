import { describe, expect, it } from 'vitest';
import { prepareAppend } from './preparedAppend.ts';

const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
const event = { id, type: 'Happened', data: { é: '😀' }, metadata: { actor: 'me' } };

describe('prepareAppend', () => {
  it('serializes data and metadata as JSON text', () => {
    expect(prepareAppend('s', [event], 3n)).toEqual({
      streamName: 's',
      expectedRevision: 3n,
      events: [{ id, type: 'Happened', data: '{"é":"😀"}', metadata: '{"actor":"me"}' }],
    });
  });

  it.each([
    ['no events', () => prepareAppend('s', [], 'any')],
    ['an empty stream name', () => prepareAppend('', [event], 'any')],
    ['an id that is not a UUID', () => prepareAppend('s', [{ ...event, id: 'x' }], 'any')],
    ['the same id twice', () => prepareAppend('s', [event, event], 'any')],
    ['an empty type', () => prepareAppend('s', [{ ...event, type: '' }], 'any')],
    ['a stream name reserved for the store ($)', () => prepareAppend('$users', [event], 'any')],
    ['a metadata stream name ($$)', () => prepareAppend('$$s', [event], 'any')],
    ['an event type reserved for the store ($)', () => prepareAppend('s', [{ ...event, type: '$>' }], 'any')],
    ['data that is an array', () => prepareAppend('s', [{ ...event, data: [] as never }], 'any')],
    ['data that JSON cannot hold', () => prepareAppend('s', [{ ...event, data: { n: 1n } }], 'any')],
    ['a numeric expected revision', () => prepareAppend('s', [event], 1 as never)],
    ['a negative expected revision', () => prepareAppend('s', [event], -1n)],
  ])('refuses %s', (_, prepare) => {
    expect(prepare).toThrow(TypeError);
  });

  it('accepts "$" anywhere but at the start', () => {
    expect(() => prepareAppend('price$-1', [{ ...event, type: 'Cost$' }], 'any')).not.toThrow();
  });
});
