import { describe, expect, it } from 'vitest';
import { toStoredEvents } from '../application/storedEvent.ts';
import { readMetadata } from '../audit/storedMetadata.ts';
import { decidePolicy, initialPolicyState } from '../domain/policy/policy.ts';
import type { AnyEvent, CommandMetadata } from '../domain/shared/message.ts';
import { iso, MINUTE, T0 } from '../domain/testing/clock.ts';
import {
  adminReset,
  enrollmentConfirmationFailed,
  factorLocked,
  lockoutCleared,
  recoveryCodeConsumed,
  refusedAttemptsCounted,
  userErased,
  verificationFailed,
  verificationRefused,
} from '../domain/testing/events.ts';
import { ADMIN, USER_ID, WEB } from '../domain/testing/metadata.ts';
import { issueRecoveryCodes } from '../domain/testing/recoveryCodes.ts';
import { enrollmentDeadlineRecorded, requirement } from '../domain/testing/requirement.ts';
import { sealSecret } from '../domain/testing/secrets.ts';
import { SECRET_A, SECRET_B } from '../domain/testing/totpCodes.ts';
import type { TwoFactorEvent, TwoFactorEventType } from '../domain/twoFactor/events.ts';
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

/** A sealed secret's `keyId` names the key that sealed it; it is no secret (a resealing shows it). */
const NOT_SECRET = new Set(['keyId']);

/** Every string or number found under a secret-bearing field, at any depth. */
function secretValues(value: unknown, underSecret = false, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) secretValues(item, underSecret, found);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value))
      if (!NOT_SECRET.has(key)) secretValues(inner, underSecret || SECRET_FIELDS.has(key), found);
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

type EventOf<T extends TwoFactorEventType> = Extract<TwoFactorEvent, { type: T }>;

/**
 * An event as the domain writes it today (its type's current schema version), for the user
 * of the metadata builders: the events that name an authenticator are written out here, so
 * that what their records must say follows from what is in them.
 */
const current = <T extends TwoFactorEventType>(
  type: T,
  nowMs: number,
  data: Omit<EventOf<T>['data'], 'userId' | 'at'>,
  metadata: CommandMetadata = WEB,
): EventOf<T> =>
  ({
    type,
    data: { userId: USER_ID, at: iso(nowMs), ...data },
    metadata: { ...metadata, schemaVersion: TWO_FACTOR_SCHEMA_VERSIONS[type] },
  }) as unknown as EventOf<T>;

const PHONE = { authenticatorId: 'auth_1', name: 'Work phone' };
const TABLET = { authenticatorId: 'auth_2', name: 'Tablet' };
const NEW_PHONE = { authenticatorId: 'auth_3', name: 'New phone' };
const RECOVERY_CODE = { method: 'recovery-code', step: null, authenticatorId: null } as const;

/** One event of each type the domain has, with realistic secret-bearing data. */
const domainEvents: AnyEvent[] = [
  current('EnrollmentStarted', T0, {
    ...PHONE,
    secret: sealedA,
    expiresAt: iso(T0 + 15 * MINUTE),
    replacement: false,
    proof: null,
  }),
  enrollmentConfirmationFailed(T0 + 1000),
  current('TwoFactorEnabled', T0 + 2000, { ...PHONE, secret: sealedA, step, recoveryCodes: codes1.set }),
  current('AuthenticatorAdded', T0 + 30_000, {
    ...TABLET,
    secret: sealedB,
    expiresAt: iso(T0 + 30_000 + 15 * MINUTE),
    proof: { method: 'totp', step: step + 1, authenticatorId: PHONE.authenticatorId },
  }),
  current('AuthenticatorConfirmed', T0 + 40_000, { ...TABLET, step: step + 1 }),
  current('AuthenticatorRenamed', T0 + 50_000, { ...TABLET, name: 'Old tablet', previousName: 'Tablet' }),
  current('SignInVerified', T0 + MINUTE, {
    method: 'totp',
    step: step + 2,
    authenticatorId: TABLET.authenticatorId,
  }),
  current('SignInVerified', T0 + MINUTE, { method: 'recovery-code', step: null, authenticatorId: null }),
  recoveryCodeConsumed(T0 + MINUTE, 0, 9, 'sign-in'),
  current('CodesRegenerated', T0 + 2 * MINUTE, {
    authenticatorId: PHONE.authenticatorId,
    step: step + 4,
    recoveryCodes: codes2.set,
  }),
  current('AuthenticatorRemoved', T0 + 150_000, {
    ...TABLET,
    name: 'Old tablet',
    proof: RECOVERY_CODE,
  }),
  current('EnrollmentStarted', T0 + 3 * MINUTE, {
    ...NEW_PHONE,
    secret: sealedB,
    expiresAt: iso(T0 + 18 * MINUTE),
    replacement: true,
    proof: RECOVERY_CODE,
  }),
  current('AuthenticatorReplaced', T0 + 4 * MINUTE, {
    ...NEW_PHONE,
    secret: sealedB,
    step: step + 8,
    recoveryCodes: codes1.set,
  }),
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
  current('TwoFactorDisabled', T0 + 8 * MINUTE, {
    method: 'totp',
    step: step + 16,
    authenticatorId: NEW_PHONE.authenticatorId,
  }),
  adminReset(T0 + 9 * MINUTE, 'enabled', 'lost phone, ticket 42'),
  current(
    'SecretsResealed',
    T0 + 10 * MINUTE,
    {
      authenticators: [
        { authenticatorId: PHONE.authenticatorId, secret: sealedA },
        { authenticatorId: TABLET.authenticatorId, secret: sealedB },
      ],
      pending: null,
    },
    ADMIN,
  ),
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
        authenticatorId: 'auth_1',
        authenticatorName: 'Work phone',
        expiresAt: new Date(T0 + 15 * MINUTE).toISOString(),
        replacement: false,
        proofMethod: null,
        proofAuthenticatorId: null,
      },
    } satisfies AuditRecord);
    const byType = (type: string) => records.find((record) => record.type === type)!;
    expect(byType('TwoFactorEnabled').details).toEqual({
      occurredAt: new Date(T0 + 2000).toISOString(),
      authenticatorId: 'auth_1',
      authenticatorName: 'Work phone',
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

  it('names the authenticator app of every event that concerns one, and never its secret', () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const detailsOf = (type: string) =>
      records.filter((record) => record.type === type).map((record) => record.details);
    expect(detailsOf('EnrollmentStarted')[1]).toEqual({
      occurredAt: at(T0 + 3 * MINUTE),
      authenticatorId: 'auth_3',
      authenticatorName: 'New phone',
      expiresAt: at(T0 + 18 * MINUTE),
      replacement: true,
      proofMethod: 'recovery-code',
      proofAuthenticatorId: null,
    });
    expect(detailsOf('AuthenticatorAdded')).toEqual([
      {
        occurredAt: at(T0 + 30_000),
        authenticatorId: 'auth_2',
        authenticatorName: 'Tablet',
        expiresAt: at(T0 + 30_000 + 15 * MINUTE),
        proofMethod: 'totp',
        proofStep: step + 1,
        proofAuthenticatorId: 'auth_1',
      },
    ]);
    expect(detailsOf('AuthenticatorConfirmed')).toEqual([
      { occurredAt: at(T0 + 40_000), authenticatorId: 'auth_2', authenticatorName: 'Tablet', step: step + 1 },
    ]);
    expect(detailsOf('AuthenticatorRenamed')).toEqual([
      {
        occurredAt: at(T0 + 50_000),
        authenticatorId: 'auth_2',
        authenticatorName: 'Old tablet',
        previousName: 'Tablet',
      },
    ]);
    expect(detailsOf('AuthenticatorRemoved')).toEqual([
      {
        occurredAt: at(T0 + 150_000),
        authenticatorId: 'auth_2',
        authenticatorName: 'Old tablet',
        proofMethod: 'recovery-code',
        proofStep: null,
        proofAuthenticatorId: null,
      },
    ]);
    expect(detailsOf('AuthenticatorReplaced')).toEqual([
      {
        occurredAt: at(T0 + 4 * MINUTE),
        authenticatorId: 'auth_3',
        authenticatorName: 'New phone',
        step: step + 8,
        recoveryCodes: 10,
      },
    ]);
    // A code's app, or null for a recovery code.
    expect(detailsOf('SignInVerified').map((details) => details.authenticatorId)).toEqual(['auth_2', null]);
    expect(detailsOf('CodesRegenerated')).toEqual([
      { occurredAt: at(T0 + 2 * MINUTE), authenticatorId: 'auth_1', step: step + 4, recoveryCodes: 10 },
    ]);
    expect(detailsOf('TwoFactorDisabled')).toEqual([
      { occurredAt: at(T0 + 8 * MINUTE), method: 'totp', step: step + 16, authenticatorId: 'auth_3' },
    ]);
    // Which app's secret moved under which key: the key's id, never the sealed secret.
    expect(detailsOf('SecretsResealed')).toEqual([
      {
        occurredAt: at(T0 + 10 * MINUTE),
        authenticators: [
          { authenticatorId: 'auth_1', keyId: sealedA.keyId },
          { authenticatorId: 'auth_2', keyId: sealedB.keyId },
        ],
        pendingKeyId: null,
      },
    ]);
    const json = JSON.stringify(records);
    for (const sealed of [sealedA, sealedB])
      for (const field of [sealed.ciphertext, sealed.nonce, sealed.tag]) expect(json).not.toContain(field);
  });

  it('reads an event recorded when a user had one app as naming authenticator auth_1, "Authenticator app"', () => {
    /** As written then: no authenticator id or name, schema version 1. */
    const v1 = (type: string, data: Record<string, unknown>, metadata: CommandMetadata = WEB) =>
      ({
        type,
        data: { userId: USER_ID, at: iso(T0), ...data },
        metadata: { ...metadata, schemaVersion: 1 },
      }) as unknown as AnyEvent;
    const [enabled, signedIn, recovered, resealed] = recorded([
      v1('TwoFactorEnabled', { secret: sealedA, step, recoveryCodes: codes1.set }),
      v1('SignInVerified', { method: 'totp', step: step + 1 }),
      v1('TwoFactorDisabled', { method: 'recovery-code', step: null }),
      v1('SecretsResealed', { authenticator: sealedA, pending: null }, ADMIN),
    ]).map(toAuditRecord);
    expect(enabled!.details).toMatchObject({
      authenticatorId: 'auth_1',
      authenticatorName: 'Authenticator app',
    });
    expect(signedIn!.details).toMatchObject({ authenticatorId: 'auth_1' });
    expect(recovered!.details).toMatchObject({ authenticatorId: null });
    expect(resealed!.details).toEqual({
      occurredAt: new Date(T0).toISOString(),
      authenticators: [{ authenticatorId: 'auth_1', keyId: sealedA.keyId }],
      pendingKeyId: null,
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
