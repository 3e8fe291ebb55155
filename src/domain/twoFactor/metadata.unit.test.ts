import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { CURRENT_SCHEMA_VERSIONS } from '../testing/events.ts';
import { ADMIN, WEB } from '../testing/metadata.ts';
import { requirement } from '../testing/requirement.ts';
import { SECRET_A, SECRET_B, SECRET_C, wrongCodeAt } from '../testing/totpCodes.ts';
import type { TwoFactorEvent, TwoFactorEventType } from './events.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from './schema.ts';

/** A flow that makes the decider emit every event type it has. */
function everyEventType(): readonly TwoFactorEvent[] {
  const account = new TwoFactorAccount(T0);
  account.start(SECRET_A);
  account.advance(SECOND);
  account.confirm('000000'); // VerificationFailed (purpose enrollment)
  account.confirm(); // TwoFactorEnabled
  account.advance(MINUTE);
  account.signIn(account.recovery(account.codesInForce()!.codes[0]!)); // RecoveryCodeConsumed, SignInVerified
  account.advance(MINUTE);
  account.regenerate(account.totp(account.currentCode())); // CodesRegenerated
  account.advance(MINUTE);
  account.start(SECRET_B, account.totp(account.currentCode())); // replacement
  account.advance(SECOND);
  account.confirm(); // AuthenticatorReplaced
  account.advance(MINUTE);
  account.add('auth_backup', SECRET_C, account.totp(account.currentCode())); // AuthenticatorAdded
  account.advance(SECOND);
  account.confirmAdded('auth_backup'); // AuthenticatorConfirmed
  account.rename('auth_backup', 'Old phone'); // AuthenticatorRenamed
  account.advance(MINUTE);
  account.remove('auth_backup', account.totp(account.currentCode())); // AuthenticatorRemoved
  for (let i = 0; i < 6; i++) account.signIn(account.totp(wrongCodeAt(SECRET_B, account.nowMs))); // failed, locked, refused
  account.countRefused(3, account.nowMs - SECOND); // RefusedAttemptsCounted
  account.unlock(); // LockoutCleared
  account.advance(MINUTE);
  account.disable(account.totp(account.currentCode())); // TwoFactorDisabled
  account.reset(); // AdminReset
  account.start(SECRET_A);
  account.reseal(); // SecretsResealed
  account.erase(); // UserErased
  account.see(requirement(T0)); // EnrollmentDeadlineRecorded
  return account.events;
}

const ADMIN_TYPES: readonly TwoFactorEventType[] = [
  'AdminReset',
  'LockoutCleared',
  'SecretsResealed',
  'UserErased',
];

describe('event metadata', () => {
  const events = everyEventType();

  it('the flow under test covers every event type the decider still emits', () => {
    // Kept readable for history; failed confirmations are VerificationFailed (purpose enrollment) now.
    const historical: readonly string[] = ['EnrollmentConfirmationFailed'];
    const decided = Object.keys(TWO_FACTOR_SCHEMA_VERSIONS).filter((type) => !historical.includes(type));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(decided));
  });

  it('every event carries the current schema version of its type', () => {
    for (const event of events) {
      expect(event.metadata.schemaVersion, event.type).toBe(TWO_FACTOR_SCHEMA_VERSIONS[event.type]);
    }
  });

  it('every event type is at the schema version its specifications expect (version 2: one lockout per factor, named authenticators)', () => {
    expect(TWO_FACTOR_SCHEMA_VERSIONS).toEqual(CURRENT_SCHEMA_VERSIONS);
    expect(Object.keys(TWO_FACTOR_SCHEMA_VERSIONS).length).toBe(21);
  });

  it('user commands copy correlation id, causation id, actor, end-user IP and user agent onto their events', () => {
    const userEvents = events.filter((e) => !ADMIN_TYPES.includes(e.type));
    for (const event of userEvents) {
      expect(event.metadata, event.type).toEqual({
        ...WEB,
        schemaVersion: CURRENT_SCHEMA_VERSIONS[event.type],
      });
    }
  });

  it('admin commands record the administrator, without end-user details they did not give', () => {
    const adminEvents = events.filter((e) => ADMIN_TYPES.includes(e.type));
    expect(adminEvents).toHaveLength(4);
    for (const event of adminEvents) {
      expect(event.metadata).toEqual({ ...ADMIN, schemaVersion: CURRENT_SCHEMA_VERSIONS[event.type] });
      expect(event.metadata).not.toHaveProperty('endUserIp');
    }
  });

  it('every event names the user and the time it happened', () => {
    for (const event of events) {
      expect(event.data.userId).toBe('user-1');
      expect(event.data.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });
});
