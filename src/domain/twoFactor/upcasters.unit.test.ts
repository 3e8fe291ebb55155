import { describe, expect, it } from 'vitest';
import { upcast } from '../shared/upcast.ts';
import { HOUR, iso, MINUTE, SECOND, T0 } from '../testing/clock.ts';
import {
  factorLocked,
  lockoutCleared,
  recoveryCodeConsumed,
  refusedAttemptsCounted,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import { enabled, lockedUntilAdmin } from '../testing/histories.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { isLocked } from './lockout.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from './schema.ts';
import { initialState } from './state.ts';
import { twoFactorStatus } from './status.ts';
import { twoFactorUpcasters } from './upcasters.ts';

/*
 * Events recorded before each factor had a lockout of its own (schema version 1) are read
 * today through the upcasters, never rewritten: a recorded history must read as it did.
 */

/** What a version 1 store holds for an event built today: the fields version 2 added, left out. */
function asRecordedInVersion1(event: TwoFactorEvent): { type: string; data: Record<string, unknown> } {
  const {
    factor: _f,
    appLockout: _a,
    lockedFactors: _l,
    ...data
  } = event.data as unknown as Record<string, unknown>;
  return { type: event.type, data };
}

/** Read back as the repository reads a stored event: upcast from version 1 where it was written then. */
function readBack(events: readonly TwoFactorEvent[]): TwoFactorEvent[] {
  return events.map((event) => {
    if (event.metadata.schemaVersion === 1) return event;
    const { type, data } = asRecordedInVersion1(event);
    const current = TWO_FACTOR_SCHEMA_VERSIONS[event.type];
    return {
      ...event,
      data: upcast(twoFactorUpcasters, type, data, 1, current),
      metadata: { ...event.metadata, schemaVersion: current },
    } as TwoFactorEvent;
  });
}

const fold = (events: readonly TwoFactorEvent[]) => events.reduce(evolve, initialState());
const statusAt = (events: readonly TwoFactorEvent[], nowMs = T0) =>
  twoFactorStatus('user-1', fold(events), { nowMs, requireTwoFactor: false });

describe('lockout events of schema version 1', () => {
  it('a hundred failed TOTP codes and the lock for good read as the app disabled, the recovery codes free', () => {
    expect(statusAt(readBack(lockedUntilAdmin))).toMatchObject({
      locked: true,
      lockedUntil: null,
      recoveryCodesLocked: false,
      recoveryCodesLockedUntil: null,
    });
  });

  it('a lock after mixed failures reads as a lock of the app (the only lock there was), counts folded by method', () => {
    const lockedAt = T0 - 10 * SECOND;
    const recorded = readBack([
      ...enabled,
      verificationFailed(lockedAt - 4 * SECOND, 1),
      verificationFailed(lockedAt - 3 * SECOND, 2, 'sign-in', 'recovery-code'),
      verificationFailed(lockedAt - 2 * SECOND, 3),
      verificationFailed(lockedAt - SECOND, 4, 'sign-in', 'recovery-code'),
      verificationFailed(lockedAt, 5),
      factorLocked(lockedAt, 5, lockedAt + MINUTE),
    ]);
    const state = fold(recorded);
    expect(statusAt(recorded)).toMatchObject({
      locked: true,
      lockedUntil: iso(lockedAt + MINUTE),
      recoveryCodesLocked: false,
    });
    expect(state.lockouts.app.consecutiveFailures).toBe(3);
    expect(state.lockouts['recovery-codes'].consecutiveFailures).toBe(2);
    // The recorded counts stay what they were: the audit shows what was decided then.
    expect(
      recorded.filter((e) => e.type === 'VerificationFailed').map((e) => e.data.consecutiveFailures),
    ).toEqual([1, 2, 3, 4, 5]);
  });

  it('a recovery code used during a lock for good lifted it then, and still reads so', () => {
    const recorded = readBack([...lockedUntilAdmin, recoveryCodeConsumed(T0 - SECOND, 0, 9, 'sign-in')]);
    const state = fold(recorded);
    expect(isLocked(state.lockouts.app, T0)).toBe(false);
    expect(state.lockouts.app.consecutiveFailures).toBe(0);
    expect(statusAt(recorded).locked).toBe(false);
  });

  it('a refused recovery code during a lock for good was refused by that lock: the app’s', () => {
    const [refused] = readBack([verificationRefused(T0, null, 'sign-in', 'recovery-code')]);
    expect(refused?.data).toMatchObject({ method: 'recovery-code', factor: 'app' });
  });

  it('an unlock and a count of refusals read as the app’s', () => {
    const [cleared, notLocked, counted] = readBack([
      lockoutCleared(T0, true),
      lockoutCleared(T0, false),
      refusedAttemptsCounted(T0, 3, T0 - HOUR, T0 - SECOND),
    ]);
    expect(cleared?.data).toMatchObject({ wasLocked: true, lockedFactors: ['app'] });
    expect(notLocked?.data).toMatchObject({ wasLocked: false, lockedFactors: [] });
    expect(counted?.data).toMatchObject({ factor: 'app', attempts: 3 });
  });
});
