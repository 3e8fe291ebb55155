import { describe, expect, it } from 'vitest';
import {
  linkedMetadata,
  linkOf,
  METADATA_VERSION,
  readMetadata,
  storedMetadataOf,
  withLink,
} from './storedMetadata.ts';

const HASH = 'ab'.repeat(32);
const REQUEST = '3f2a9c1e-7b4d-4e21-9a3c-5d6e7f8091a2';
const personal = {
  keyId: 'dk:0f8fad5b-d9cb-469f-a165-70867728950e',
  nonce: Buffer.alloc(12, 1).toString('base64'),
  ciphertext: Buffer.from('sealed personal fields').toString('base64'),
  tag: Buffer.alloc(16, 2).toString('base64'),
};
const signIn = {
  correlationId: REQUEST,
  causationId: REQUEST,
  actor: { role: 'web', id: null },
  schemaVersion: 1,
  personal,
};

/** What a reader gets back for what the service stored. */
const roundTrip = (metadata: Record<string, unknown>) =>
  readMetadata(withLink(storedMetadataOf(metadata), HASH));

describe('stored event metadata', () => {
  it('stores a sign-in compactly: one request id, the role alone, the sealed fields and link packed', () => {
    const stored = withLink(storedMetadataOf(signIn), HASH);
    expect(stored).toEqual({
      v: METADATA_VERSION,
      u: Buffer.from(REQUEST.replaceAll('-', ''), 'hex').toString('base64url'),
      a: 'web',
      s: 1,
      p: expect.stringMatching(/^~[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/),
      h: Buffer.from(HASH, 'hex').toString('base64url'),
    });
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify({ ...signIn, hash: HASH }).length / 2);
  });

  it('reads back exactly what the service meant, link as 64 hexadecimal digits', () => {
    expect(roundTrip(signIn)).toEqual({ ...signIn, hash: HASH });
  });

  it.each([
    ['correlation and causation that differ', { ...signIn, causationId: 'another' }],
    ['a request id that is no UUID', { ...signIn, correlationId: 'req-1', causationId: 'req-1' }],
    [
      'an upper-case UUID',
      { ...signIn, correlationId: REQUEST.toUpperCase(), causationId: REQUEST.toUpperCase() },
    ],
    ['an actor with an id', { ...signIn, actor: { role: 'admin', id: 'root@example.com' } }],
    [
      'no personal fields',
      { correlationId: REQUEST, causationId: REQUEST, actor: signIn.actor, schemaVersion: 2 },
    ],
    ['personal fields under an instance key', { ...signIn, personal: { ...personal, keyId: 'k1' } }],
    ['a short nonce', { ...signIn, personal: { ...personal, nonce: Buffer.alloc(8).toString('base64') } }],
    ['base64 that is not canonical', { ...signIn, personal: { ...personal, ciphertext: 'YQ' } }],
    ['an extra field', { ...signIn, origin: { region: 'eu' } }],
    ['a field named like a version 2 key', { ...signIn, p: 'mine' }],
  ])('keeps %s exactly as given', (_label, metadata) => {
    expect(roundTrip(metadata)).toEqual({ ...metadata, hash: HASH });
  });

  it('links and reads version 1 metadata as it always was', () => {
    const v1 = { ...signIn, hash: HASH };
    expect(linkOf(v1)).toBe(HASH);
    expect(linkedMetadata(v1)).toEqual(signIn);
    expect(readMetadata(v1)).toEqual(v1);
  });

  it('gives the link of either version, and the metadata the link covers', () => {
    const stored = withLink(storedMetadataOf(signIn), HASH);
    expect(linkOf(stored)).toBe(HASH);
    expect(linkedMetadata(stored)).toEqual(storedMetadataOf(signIn));
    expect(linkOf(linkedMetadata(stored))).toBeUndefined();
    expect(linkOf({ ...signIn })).toBeUndefined();
  });

  it('refuses metadata of a version newer than this build knows', () => {
    expect(() => readMetadata({ v: METADATA_VERSION + 1, r: 'x' })).toThrow(/newer than this build/);
  });
});
