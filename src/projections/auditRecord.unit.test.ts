import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import { readMetadata } from '../audit/storedMetadata.ts';
import { decidePolicy, initialPolicyState } from '../domain/policy/policy.ts';
import type { AnyEvent } from '../domain/shared/message.ts';
import { MINUTE, T0 } from '../domain/testing/clock.ts';
import {
  adminReset,
  authenticatorReplaced,
  codesRegenerated,
  enrollmentConfirmationFailed,
  enrollmentStarted,
  factorLocked,
  lockoutCleared,
  recoveryCodeConsumed,
  refusedAttemptsCounted,
  secretsResealed,
  signInVerified,
  twoFactorDisabled,
  twoFactorEnabled,
  userErased,
  verificationFailed,
  verificationRefused,
} from '../domain/testing/events.ts';
import { ADMIN } from '../domain/testing/metadata.ts';
import { issueRecoveryCodes } from '../domain/testing/recoveryCodes.ts';
import { enrollmentDeadlineRecorded, requirement } from '../domain/testing/requirement.ts';
import { sealSecret } from '../domain/testing/secrets.ts';
import { SECRET_A, SECRET_B } from '../domain/testing/totpCodes.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from '../domain/twoFactor/schema.ts';
import type { RecordedEvent } from '../eventStore/eventStore.ts';
import { type AuditRecord, toAuditRecord } from './auditRecord.ts';

const SECRET_FIELDS = new Set([
  'secret',
  'recoveryCodes',
  'digests',
  'salt',
  'nonce',
  'ciphertext',
  'tag',
  'hash',
]);

/** Every string or number found under a secret-bearing field, at any depth. */
function secretValues(value: unknown, underSecret = false, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) secretValues(item, underSecret, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value))
      secretValues(inner, underSecret || SECRET_FIELDS.has(key), found);
  } else if (underSecret && (typeof value === 'string' || typeof value === 'number')) {
    found.push(String(value));
  }
  return found;
}

const codes1 = issueRecoveryCodes('audit set 1');
const codes2 = issueRecoveryCodes('audit set 2');
const sealedA = sealSecret(SECRET_A);
const sealedB = sealSecret(SECRET_B);
const step = Math.floor(T0 / 30_000);

/** One event of each type the domain has, with realistic secret-bearing data. */
const domainEvents: AnyEvent[] = [
  enrollmentStarted(T0, sealedA),
  enrollmentConfirmationFailed(T0 + 1000),
  twoFactorEnabled(T0 + 2000, sealedA, step, codes1.set),
  signInVerified(T0 + MINUTE, 'totp', step + 2),
  signInVerified(T0 + MINUTE, 'recovery-code', null),
  recoveryCodeConsumed(T0 + MINUTE, 0, 9, 'sign-in'),
  codesRegenerated(T0 + 2 * MINUTE, step + 4, codes2.set),
  enrollmentStarted(T0 + 3 * MINUTE, sealedB, { method: 'recovery-code', step: null }),
  authenticatorReplaced(T0 + 4 * MINUTE, sealedB, step + 8, codes1.set),
  verificationFailed(T0 + 5 * MINUTE, 5),
  factorLocked(T0 + 5 * MINUTE, 5, T0 + 6 * MINUTE),
  factorLocked(T0 + 5 * MINUTE, 100, null),
  verificationRefused(T0 + 5 * MINUTE, T0 + 6 * MINUTE),
  refusedAttemptsCounted(
    T0 + 6 * MINUTE,
    41,
    T0 + 5 * MINUTE + 1,
    T0 + 6 * MINUTE - 1,
    ['203.0.113.9'],
    T0 + 6 * MINUTE,
  ),
  lockoutCleared(T0 + 7 * MINUTE, true),
  twoFactorDisabled(T0 + 8 * MINUTE, 'totp', step + 16),
  adminReset(T0 + 9 * MINUTE, 'enabled', 'lost phone, ticket 42'),
  secretsResealed(T0 + 10 * MINUTE, sealedA, null),
  userErased(T0 + 11 * MINUTE, 'enabled', 'erasure request, ticket 43'),
  enrollmentDeadlineRecorded(T0 + 12 * MINUTE, requirement(T0, 72)),
  ...decidePolicy(
    {
      type: 'ChangeTwoFactorRequirement',
      data: { requireTwoFactor: true, gracePeriodHours: 72, nowMs: T0 },
      metadata: ADMIN,
    },
    initialPolicyState(),
  ),
];

function recorded(events: readonly AnyEvent[]): RecordedEvent[] {
  return events.map((event, index) => {
    const streamName = event.type === 'TwoFactorRequirementChanged' ? 'policy-instance' : 'two-factor-user-1';
    const { stored } = toStoredEvents(streamName, BigInt(index), 'genesis', [event]);
    const [one] = stored;
    return {
      id: one!.id,
      streamName,
      revision: BigInt(index),
      // beyond 2^53: the position must come out exact
      position: 2n ** 60n + BigInt(index),
      type: one!.type,
      data: one!.data,
      metadata: one!.metadata,
      recordedAt: new Date(T0 + index),
    };
  });
}

describe('toAuditRecord', () => {
  const events = recorded(domainEvents);
  const records = events.map(toAuditRecord);

  it('covers every event type of the domain', () => {
    const types = new Set(events.map((event) => event.type));
    for (const type of Object.keys(TWO_FACTOR_SCHEMA_VERSIONS)) expect(types).toContain(type);
    expect(types).toContain('TwoFactorRequirementChanged');
  });

  it.each(events.map((event, index) => [event.type, index] as const))(
    '%s: its audit record holds no value of a secret, code set, digest, salt, nonce, ciphertext, tag or hash',
    (_type, index) => {
      const event = events[index]!;
      const json = JSON.stringify(records[index]);
      // The metadata as the service reads it, and the stored forms of its link and sealed fields.
      const { h: link, p: sealed } = event.metadata;
      const secrets = secretValues({
        data: event.data,
        metadata: readMetadata(event.metadata),
        stored: { hash: link, tag: sealed },
      });
      expect(secrets.length).toBeGreaterThan(0); // every event carries the chain hash
      for (const secret of secrets.filter((value) => value.length >= 6)) expect(json).not.toContain(secret);
      // and no key that names one
      expect(
        Object.keys(records[index]!.details).filter(
          (key) => SECRET_FIELDS.has(key) && key !== 'recoveryCodes',
        ),
      ).toEqual([]);
      if ('recoveryCodes' in records[index]!.details) expect(records[index]!.details.recoveryCodes).toBe(10);
    },
  );

  it('never shows the plaintext recovery codes or the TOTP secret', () => {
    const json = JSON.stringify(records);
    for (const code of [...codes1.codes, ...codes2.codes]) expect(json).not.toContain(code);
    for (const secret of [SECRET_A, SECRET_B]) expect(json).not.toContain(secret);
  });

  it('maps the audit fields from the event and its metadata', () => {
    const [started] = records;
    expect(started).toEqual({
      position: (2n ** 60n).toString(),
      recordedAt: new Date(T0).toISOString(),
      userId: 'user-1',
      type: 'EnrollmentStarted',
      actor: { role: 'web', id: 'user-1' },
      correlationId: 'req-web-1',
      endUserIp: '203.0.113.7',
      endUserAgent: 'Mozilla/5.0 (test)',
      personalDataErased: false,
      details: {
        occurredAt: new Date(T0).toISOString(),
        expiresAt: new Date(T0 + 15 * MINUTE).toISOString(),
        replacement: false,
        proofMethod: null,
      },
    } satisfies AuditRecord);
    const byType = (type: string) => records.find((record) => record.type === type)!;
    expect(byType('TwoFactorEnabled').details).toEqual({
      occurredAt: new Date(T0 + 2000).toISOString(),
      step,
      recoveryCodes: 10,
    });
    expect(byType('VerificationFailed').details).toMatchObject({
      purpose: 'sign-in',
      method: 'totp',
      factor: 'app',
      consecutiveFailures: 5,
    });
    expect(byType('RecoveryCodeConsumed').details).toMatchObject({ purpose: 'sign-in', remaining: 9 });
    expect(byType('RefusedAttemptsCounted').details).toEqual({
      occurredAt: new Date(T0 + 6 * MINUTE).toISOString(),
      factor: 'app',
      attempts: 41,
      firstAt: new Date(T0 + 5 * MINUTE + 1).toISOString(),
      lastAt: new Date(T0 + 6 * MINUTE - 1).toISOString(),
      endUserIps: ['203.0.113.9'],
      lockedUntil: new Date(T0 + 6 * MINUTE).toISOString(),
    });
    expect(byType('AdminReset')).toMatchObject({
      actor: { role: 'admin', id: 'admin-7' },
      endUserIp: null,
      endUserAgent: null,
      details: { reason: 'lost phone, ticket 42', previousStatus: 'enabled' },
    });
    expect(byType('TwoFactorRequirementChanged')).toMatchObject({
      userId: null,
      details: { requireTwoFactor: true, previous: false, gracePeriodHours: 72, previousGracePeriodHours: 0 },
    });
    expect(byType('EnrollmentDeadlineRecorded')).toMatchObject({
      userId: 'user-1',
      actor: { role: 'web', id: 'user-1' },
      details: {
        occurredAt: new Date(T0 + 12 * MINUTE).toISOString(),
        requiredSince: new Date(T0).toISOString(),
        seenThrough: 'status',
        graceApplies: true,
        gracePeriodHours: 72,
        enrollBy: new Date(T0 + 12 * MINUTE + 72 * 60 * MINUTE).toISOString(),
      },
    });
  });

  it('gives an unknown event type empty details', () => {
    const unknown: RecordedEvent = {
      ...events[0]!,
      type: 'SomethingNew',
      data: { userId: 'u9', at: new Date(T0).toISOString(), secret: 'shh-very-secret' },
    };
    const record = toAuditRecord(unknown);
    expect(record.details).toEqual({});
    expect(record.userId).toBe('u9');
    expect(JSON.stringify(record)).not.toContain('shh-very-secret');
  });
});
