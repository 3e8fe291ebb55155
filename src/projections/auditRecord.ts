import type { ProofRecord } from '../domain/twoFactor/events.ts';
import type { RecordedEvent } from '../eventStore/eventStore.ts';
import { type DomainEvent, projectedEvent, stringOrNull } from './eventData.ts';
import { keptSealed, type PersonalDataReader, sealedOfKept } from './personalData.ts';
import type { ProjectedEvent } from './projection.ts';

/**
 * One line of the audit stream (`GET /v1/audit/events`): who did what, when, from where.
 * `details` is a whitelist per event type: what an investigator needs, never a secret, a
 * recovery code, a digest, a salt or a hash of anything.
 */
export type AuditRecord = {
  position: string;
  recordedAt: string;
  userId: string | null;
  type: string;
  actor: { role: string; id: string | null };
  correlationId: string | null;
  endUserIp: string | null;
  endUserAgent: string | null;
  /** true when the user was erased: the event's personal fields can no longer be read */
  personalDataErased: boolean;
  details: Record<string, unknown>;
};

/**
 * A record as the audit read model keeps it: personal fields still sealed with the user's
 * data key (`sealed`), opened by `revealAuditRecord` when it is read.
 */
export type StoredAuditRecord = AuditRecord & { readonly sealed?: string };

type DataOf<T extends DomainEvent['type']> = Extract<DomainEvent, { type: T }>['data'];

/**
 * Which of the user's authenticator apps an event concerns, by id and by the name its user
 * gave it (what an investigator and the user recognise it by). Never its secret.
 */
const device = (d: { readonly authenticatorId: string; readonly name: string }) => ({
  authenticatorId: d.authenticatorId,
  authenticatorName: d.name,
});

/** How a command was proven: the kind of code, its TOTP step, and whose app it came from. */
const proofOf = (proof: ProofRecord) => ({
  proofMethod: proof.method,
  proofStep: proof.step,
  proofAuthenticatorId: proof.authenticatorId,
});

/** One entry per event type the domain has: a new type does not compile until it is added here. */
type Details = { readonly [T in DomainEvent['type']]: (data: DataOf<T>) => Record<string, unknown> };

/**
 * The fields each event type contributes to `details`. Every value is computed from named,
 * non-secret fields; a field added to an event later stays out of the audit until it is
 * added here on purpose. `occurredAt` is the service clock's time of the decision
 * (`recordedAt` is the store's commit time).
 */
const DETAILS: Details = {
  // The app being enrolled (it gets this id and name once confirmed), and for a replacement
  // the app whose code proved it (null: a recovery code).
  EnrollmentStarted: (d) => ({
    occurredAt: d.at,
    ...device(d),
    expiresAt: d.expiresAt,
    replacement: d.replacement,
    proofMethod: d.proof?.method ?? null,
    proofAuthenticatorId: d.proof?.authenticatorId ?? null,
  }),
  EnrollmentConfirmationFailed: (d) => ({ occurredAt: d.at }),
  // The TOTP time step is the 30-second window of the accepted code (a count of periods since
  // 1970), not a code: it shows which code was used and that none was accepted twice.
  TwoFactorEnabled: (d) => ({
    occurredAt: d.at,
    ...device(d),
    step: d.step,
    recoveryCodes: d.recoveryCodes.digests.length,
  }),
  AuthenticatorReplaced: (d) => ({
    occurredAt: d.at,
    ...device(d),
    step: d.step,
    recoveryCodes: d.recoveryCodes.digests.length,
  }),
  AuthenticatorAdded: (d) => ({
    occurredAt: d.at,
    ...device(d),
    expiresAt: d.expiresAt,
    ...proofOf(d.proof),
  }),
  AuthenticatorConfirmed: (d) => ({ occurredAt: d.at, ...device(d), step: d.step }),
  AuthenticatorRenamed: (d) => ({ occurredAt: d.at, ...device(d), previousName: d.previousName }),
  AuthenticatorRemoved: (d) => ({ occurredAt: d.at, ...device(d), ...proofOf(d.proof) }),
  // `authenticatorId`: the app whose code it was; null for a recovery code.
  SignInVerified: (d) => ({
    occurredAt: d.at,
    method: d.method,
    step: d.step,
    authenticatorId: d.authenticatorId,
  }),
  RecoveryCodeConsumed: (d) => ({
    occurredAt: d.at,
    purpose: d.purpose,
    remaining: d.remaining,
    appLockout: d.appLockout,
  }),
  CodesRegenerated: (d) => ({
    occurredAt: d.at,
    authenticatorId: d.authenticatorId,
    step: d.step,
    recoveryCodes: d.recoveryCodes.digests.length,
  }),
  // `factor`: which lockout counted it (the app, or the recovery codes).
  VerificationFailed: (d) => ({
    occurredAt: d.at,
    purpose: d.purpose,
    method: d.method,
    factor: d.factor,
    consecutiveFailures: d.consecutiveFailures,
  }),
  FactorLocked: (d) => ({
    occurredAt: d.at,
    factor: d.factor,
    lockedUntil: d.lockedUntil,
    consecutiveFailures: d.consecutiveFailures,
  }),
  VerificationRefused: (d) => ({
    occurredAt: d.at,
    purpose: d.purpose,
    method: d.method,
    factor: d.factor,
    lockedUntil: d.lockedUntil,
  }),
  // Refusals after the first of a lock, counted: every attempt stays visible, as a number.
  RefusedAttemptsCounted: (d) => ({
    occurredAt: d.at,
    factor: d.factor,
    attempts: d.attempts,
    firstAt: d.firstAt,
    lastAt: d.lastAt,
    endUserIps: d.endUserIps,
    lockedUntil: d.lockedUntil,
  }),
  TwoFactorDisabled: (d) => ({
    occurredAt: d.at,
    method: d.method,
    step: d.step,
    authenticatorId: d.authenticatorId,
  }),
  AdminReset: (d) => ({ occurredAt: d.at, reason: d.reason, previousStatus: d.previousStatus }),
  LockoutCleared: (d) => ({ occurredAt: d.at, wasLocked: d.wasLocked, lockedFactors: d.lockedFactors }),
  UserErased: (d) => ({ occurredAt: d.at, reason: d.reason, previousStatus: d.previousStatus }),
  // Which secrets moved under the data key, never the secrets: each app's id and the id of
  // the key that now seals its secret.
  SecretsResealed: (d) => ({
    occurredAt: d.at,
    authenticators: d.authenticators.map(({ authenticatorId, secret }) => ({
      authenticatorId,
      keyId: secret.keyId,
    })),
    pendingKeyId: d.pending?.keyId ?? null,
  }),
  // The deadline as recorded; the one in force follows later changes of the grace period.
  EnrollmentDeadlineRecorded: (d) => ({
    occurredAt: d.at,
    requiredSince: d.requiredSince,
    seenThrough: d.seenThrough,
    graceApplies: d.graceApplies,
    gracePeriodHours: d.gracePeriodHours,
    enrollBy: d.enrollBy,
  }),
  TwoFactorRequirementChanged: (d) => ({
    occurredAt: d.at,
    requireTwoFactor: d.requireTwoFactor,
    previous: d.previous,
    gracePeriodHours: d.gracePeriodHours,
    previousGracePeriodHours: d.previousGracePeriodHours,
  }),
};

/** Drops undefined values so that the JSON of a record always has the same keys per type. */
function defined(details: Record<string, unknown>): Record<string, unknown> {
  const values = Object.values(details);
  if (!values.includes(undefined)) return details;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) out[key] = value === undefined ? null : value;
  return out;
}

/** The audit view of one recorded event, for a reader of the log (the CLI export): decodes it first. */
export const toAuditRecord = (recorded: RecordedEvent): StoredAuditRecord =>
  auditRecordOf(projectedEvent(recorded));

/**
 * What an audit record says beyond where its event is (position, time, user, type): who, from
 * where (an address or agent only when known), which request, the details, and the sealed
 * personal fields as kept. The audit read model stores it as it is.
 */
export type AuditBody = {
  readonly actor: { readonly role: string; readonly id: string | null };
  readonly correlationId: string | null;
  readonly endUserIp?: string;
  readonly endUserAgent?: string;
  readonly details: Record<string, unknown>;
  readonly sealed?: string;
};

/** The user an event is about, and its audit record's body (see `auditRecordOf`). */
export function auditBodyOf(recorded: ProjectedEvent): { userId: string | null; body: AuditBody } {
  const metadata = recorded.metadata as Readonly<Record<string, unknown>>;
  const actor = (metadata.actor ?? null) as { role?: unknown; id?: unknown } | null;
  const { event } = recorded;
  const data = (event === null ? recorded.data : event.data) as { readonly userId?: unknown };
  const endUserIp = stringOrNull(metadata.endUserIp);
  const endUserAgent = stringOrNull(metadata.endUserAgent);
  const sealed = keptSealed(metadata);
  return {
    userId: stringOrNull(data.userId),
    body: {
      actor: {
        role: typeof actor?.role === 'string' ? actor.role : 'unknown',
        id: stringOrNull(actor?.id),
      },
      correlationId: stringOrNull(metadata.correlationId),
      ...(endUserIp === null ? {} : { endUserIp }),
      ...(endUserAgent === null ? {} : { endUserAgent }),
      details: event === null ? {} : defined(detailsOf(event)),
      ...(sealed === null ? {} : { sealed }),
    },
  };
}

/**
 * The audit view of one event as the runner decoded it. Pure; a type no schema knows gets
 * `details: {}`, and the user id its stored data names, if any. Who, from where and the
 * sealed personal fields come from the metadata.
 */
export function auditRecordOf(recorded: ProjectedEvent): StoredAuditRecord {
  const { userId, body } = auditBodyOf(recorded);
  return {
    position: recorded.position.toString(),
    recordedAt: recorded.recordedAt.toISOString(),
    userId,
    type: recorded.type,
    actor: body.actor,
    correlationId: body.correlationId,
    endUserIp: body.endUserIp ?? null,
    endUserAgent: body.endUserAgent ?? null,
    personalDataErased: false,
    details: body.details,
    ...(body.sealed === undefined ? {} : { sealed: body.sealed }),
  };
}

/**
 * The record as it is shown: its sealed personal fields opened — the end user's address and
 * agent, the id a web call acted for, and the personal fields of its details (a count's
 * addresses, a reset's reason) — or marked erased.
 */
export async function revealAuditRecord(
  stored: StoredAuditRecord,
  read: PersonalDataReader,
  canRead = true,
): Promise<AuditRecord> {
  const { sealed: compact, ...record } = stored;
  const sealed = sealedOfKept(compact);
  if (sealed === null || record.userId === null || !canRead) return record;
  const opened = await read(record.userId, sealed);
  if (opened === null) return { ...record, personalDataErased: true };
  const actorId = stringOrNull(opened.metadata.actorId);
  return {
    ...record,
    actor: actorId === null ? record.actor : { ...record.actor, id: actorId },
    endUserIp: stringOrNull(opened.metadata.endUserIp),
    endUserAgent: stringOrNull(opened.metadata.endUserAgent),
    details: { ...record.details, ...opened.data },
  };
}

function detailsOf<E extends DomainEvent>(event: E): Record<string, unknown> {
  return (DETAILS[event.type] as (data: E['data']) => Record<string, unknown>)(event.data);
}
