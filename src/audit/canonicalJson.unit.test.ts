import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonicalJson.ts';

describe('canonicalJson', () => {
  it('writes the same text for the same value, whatever order its keys were built in', () => {
    const a = { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: null, z: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson(b)).toBe(canonicalJson(a));
  });

  it('leaves out undefined properties and writes undefined array items as null, as JSON.stringify does', () => {
    expect(canonicalJson({ gone: undefined, kept: [undefined, 2] })).toBe('{"kept":[null,2]}');
    expect(JSON.parse(canonicalJson({ gone: undefined, kept: [undefined, 2] }))).toEqual(
      JSON.parse(JSON.stringify({ gone: undefined, kept: [undefined, 2] })),
    );
  });

  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'k"\u0001': 'é\n😀' })).toBe(JSON.stringify({ 'k"\u0001': 'é\n😀' }));
  });
});
