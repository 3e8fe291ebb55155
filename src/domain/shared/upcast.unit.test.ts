import { describe, expect, it } from 'vitest';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../twoFactor/schema.ts';
import { twoFactorUpcasters } from '../twoFactor/upcasters.ts';
import { type UpcasterRegistry, upcast } from './upcast.ts';

/** A test registry: v1 had `ip`, v2 renamed it to `endUserIp`, v3 added `channel`. */
const registry: UpcasterRegistry = {
  SignedIn: {
    1: ({ ip, ...rest }) => ({ ...rest, endUserIp: ip }),
    2: (data) => ({ ...data, channel: 'web' }),
  },
};

describe('upcast', () => {
  it('lifts a v1 event through every step to v3', () => {
    expect(upcast(registry, 'SignedIn', { userId: 'u1', ip: '203.0.113.7' }, 1, 3)).toEqual({
      userId: 'u1',
      endUserIp: '203.0.113.7',
      channel: 'web',
    });
  });

  it('lifts a v2 event by the last step only', () => {
    expect(upcast(registry, 'SignedIn', { userId: 'u1', endUserIp: '203.0.113.7' }, 2, 3)).toEqual({
      userId: 'u1',
      endUserIp: '203.0.113.7',
      channel: 'web',
    });
  });

  it('applies the steps in order, one version at a time', () => {
    const order: number[] = [];
    const step =
      (version: number) =>
      (data: Readonly<Record<string, unknown>>): Record<string, unknown> => {
        order.push(version);
        return { ...data };
      };
    const tracing: UpcasterRegistry = { E: { 1: step(1), 2: step(2), 3: step(3) } };
    upcast(tracing, 'E', {}, 1, 4);
    expect(order).toEqual([1, 2, 3]);
  });

  it('leaves an event of the current version alone', () => {
    const data = { userId: 'u1', endUserIp: '203.0.113.7', channel: 'web' };
    expect(upcast(registry, 'SignedIn', data, 3, 3)).toBe(data);
  });

  it('does not change the stored data it lifts', () => {
    const stored = Object.freeze({ userId: 'u1', ip: '203.0.113.7' });
    upcast(registry, 'SignedIn', stored, 1, 3);
    expect(stored).toEqual({ userId: 'u1', ip: '203.0.113.7' });
  });

  it('throws when a step of the chain is missing', () => {
    const gap: UpcasterRegistry = { SignedIn: { 1: (d) => ({ ...d }) } };
    expect(() => upcast(gap, 'SignedIn', {}, 1, 3)).toThrow(/no upcaster for SignedIn from schema version 2/);
  });

  it('throws for an old version of a type that has no upcasters at all', () => {
    expect(() => upcast(registry, 'Unknown', {}, 1, 2)).toThrow(/no upcaster for Unknown/);
  });

  it('every two-factor event type reads from its first version up to today’s', () => {
    for (const [type, current] of Object.entries(TWO_FACTOR_SCHEMA_VERSIONS)) {
      expect(() => upcast(twoFactorUpcasters, type, { userId: 'u1' }, 1, current), type).not.toThrow();
    }
  });
});
