import { describe, expect, it } from 'vitest';
import { iso, MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { recoveryCodeConsumed } from '../testing/events.ts';
import {
  afterAdminReset,
  CONFIRMED_AT,
  disabledAfterEnabled,
  enabled,
  enabledWithPendingReplacement,
  type History,
  LOCKED_UNTIL,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  PENDING_STARTED_AT,
  pendingExpired,
  pendingLive,
} from '../testing/histories.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';
import { twoFactorStatus } from './status.ts';

const stateOf = (history: History) => history.reduce(evolve, initialState());
const statusOf = (history: History, nowMs = T0, requireTwoFactor = false) =>
  twoFactorStatus('user-1', stateOf(history), { nowMs, requireTwoFactor });

const disabledStatus = {
  userId: 'user-1',
  status: 'disabled',
  enabledAt: null,
  recoveryCodesRemaining: 0,
  authenticators: 0,
  locked: false,
  lockedUntil: null,
  recoveryCodesLocked: false,
  recoveryCodesLockedUntil: null,
  required: false,
  enrollmentRequired: false,
  enrollBy: null,
  canDefer: false,
  canDisable: false,
};

describe('twoFactorStatus: the status document', () => {
  it('a user never seen is disabled', () => {
    expect(statusOf(neverEnrolled)).toEqual(disabledStatus);
  });

  it('pending while the enrollment is live, disabled once it expired', () => {
    expect(statusOf(pendingLive)).toEqual({ ...disabledStatus, status: 'pending' });
    expect(statusOf(pendingLive, PENDING_STARTED_AT + 15 * MINUTE)).toEqual(disabledStatus);
    expect(statusOf(pendingExpired)).toEqual(disabledStatus);
  });

  it('enabled, with when it was enabled and how many recovery codes remain', () => {
    const twoUsed = [
      ...enabled,
      recoveryCodeConsumed(T0 - 2 * SECOND, 0, 9, 'sign-in'),
      recoveryCodeConsumed(T0 - SECOND, 5, 8, 'sign-in'),
    ];
    expect(statusOf(enabled)).toEqual({
      ...disabledStatus,
      status: 'enabled',
      enabledAt: iso(CONFIRMED_AT),
      recoveryCodesRemaining: 10,
      authenticators: 1,
      canDisable: true,
    });
    expect(statusOf(twoUsed).recoveryCodesRemaining).toBe(8);
  });

  it('enabled with a pending replacement is still enabled', () => {
    expect(statusOf(enabledWithPendingReplacement)).toMatchObject({
      status: 'enabled',
      recoveryCodesRemaining: 10,
    });
  });

  it('locked temporarily: locked, with when the lock ends; unlocked once it ended', () => {
    expect(statusOf(lockedTemporarily)).toMatchObject({
      status: 'enabled',
      locked: true,
      lockedUntil: iso(LOCKED_UNTIL),
    });
    expect(statusOf(lockedTemporarily, LOCKED_UNTIL)).toMatchObject({ locked: false, lockedUntil: null });
  });

  it('locked until an administrator unlocks: locked, with no end', () => {
    expect(statusOf(lockedUntilAdmin, T0 + 1000 * 24 * 60 * MINUTE)).toMatchObject({
      status: 'enabled',
      locked: true,
      lockedUntil: null,
    });
  });

  it('disabled after having been enabled, and after an admin reset: disabled', () => {
    expect(statusOf(disabledAfterEnabled)).toEqual(disabledStatus);
    expect(statusOf(afterAdminReset)).toEqual(disabledStatus);
  });

  it('required is the instance policy; an enabled user cannot disable when it is required', () => {
    expect(statusOf(enabled, T0, true)).toMatchObject({ required: true, canDisable: false });
    expect(statusOf(enabled, T0, false)).toMatchObject({ required: false, canDisable: true });
  });

  it('canDisable is false when two-factor is not enabled, whatever the policy', () => {
    expect(statusOf(pendingLive, T0, false)).toMatchObject({ required: false, canDisable: false });
    expect(statusOf(neverEnrolled, T0, true)).toMatchObject({ required: true, canDisable: false });
  });
});
