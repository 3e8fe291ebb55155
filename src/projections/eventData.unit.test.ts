import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA_VERSIONS } from '../domain/policy/policy.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import type { RecordedEvent } from '../eventStore/eventStore.ts';
import { type DomainEvent, domainEventOf, isTwoFactorEvent } from './eventData.ts';

const recorded = (type: string): RecordedEvent => ({
  id: '00000000-0000-4000-8000-000000000001',
  streamName: 'two-factor-u1',
  revision: 0n,
  position: 1n,
  type,
  data: { userId: 'u1', at: '2026-01-01T00:00:00.000Z' },
  metadata: { schemaVersion: 1 },
  recordedAt: new Date(0),
});

describe('which events are 2FA events', () => {
  it('is every type of the 2FA schema and no policy type', () => {
    for (const type of Object.keys(TWO_FACTOR_SCHEMA_VERSIONS)) {
      const event = domainEventOf(recorded(type));
      expect(event && isTwoFactorEvent(event), type).toBe(true);
    }
    for (const type of Object.keys(POLICY_SCHEMA_VERSIONS)) {
      const event = domainEventOf(recorded(type));
      expect(event, type).not.toBeNull();
      expect(isTwoFactorEvent(event!), type).toBe(false);
    }
  });

  it('is decided by the schema, not by being other than the one policy event there is today', () => {
    // A second policy event, once there is one, must not be read as a 2FA event.
    const another = { type: 'InstanceRenamed', data: {}, metadata: {} } as unknown as DomainEvent;
    expect(isTwoFactorEvent(another)).toBe(false);
  });

  it('knows no type named like an Object.prototype member', () => {
    expect(domainEventOf(recorded('constructor'))).toBeNull();
    expect(domainEventOf(recorded('toString'))).toBeNull();
  });
});
