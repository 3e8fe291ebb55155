import { describe, expect, it } from 'vitest';
import { SECOND, T0 } from '../testing/clock.ts';
import { totpProof, unlockFactor, verifySignIn } from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { lockoutCleared, signInVerified, verificationFailed } from '../testing/events.ts';
import {
  afterAdminReset,
  disabledAfterEnabled,
  enabled,
  LOCKED_UNTIL,
  lockedTemporarily,
  lockedUntilAdmin,
  neverEnrolled,
  pendingLive,
  STEP_NOW,
} from '../testing/histories.ts';
import { codeAt, SECRET_A, wrongCodeAt } from '../testing/totpCodes.ts';
import { twoFactorDecider } from './decider.ts';
import { noLockout } from './lockout.ts';

const spec = deciderSpecification(twoFactorDecider);
const unlock = unlockFactor({ nowMs: T0 });

describe('UnlockFactor: an administrator clears a lockout', () => {
  it('locked temporarily: clears the lock and the count of failures', () => {
    const { state } = spec
      .given(lockedTemporarily)
      .when(unlock)
      .then([lockoutCleared(T0, true)]);
    expect(state.lockouts.app).toEqual(noLockout);
  });

  it('locked until admin: clears the lock and the count of failures', () => {
    const { state } = spec
      .given(lockedUntilAdmin)
      .when(unlock)
      .then([lockoutCleared(T0, true)]);
    expect(state.lockouts.app).toEqual(noLockout);
  });

  it('enabled with some failures but not locked: recorded as not locked, and the count starts again', () => {
    const { state } = spec
      .given([...enabled, verificationFailed(T0 - 2 * SECOND, 1), verificationFailed(T0 - SECOND, 2)])
      .when(unlock)
      .then([lockoutCleared(T0, false)]);
    expect(state.lockouts.app.consecutiveFailures).toBe(0);
  });

  it('a temporary lock that already ended: recorded as not locked', () => {
    spec
      .given(lockedTemporarily)
      .when(unlockFactor({ nowMs: LOCKED_UNTIL }))
      .then([lockoutCleared(LOCKED_UNTIL, false)]);
  });

  it.each([
    ['never enrolled', neverEnrolled],
    ['pending', pendingLive],
    ['disabled after having been enabled', disabledAfterEnabled],
    ['after admin reset', afterAdminReset],
  ])('%s: harmless, recorded as not locked', (_name, history) => {
    spec
      .given(history)
      .when(unlock)
      .then([lockoutCleared(T0, false)]);
  });

  it('after an unlock the correct code works again', () => {
    spec
      .given([...lockedUntilAdmin, lockoutCleared(T0 - SECOND, true)])
      .when(verifySignIn({ nowMs: T0, proof: totpProof(codeAt(SECRET_A, T0), SECRET_A) }))
      .then([signInVerified(T0, 'totp', STEP_NOW)]);
  });

  it('after an unlock a wrong code counts from one again', () => {
    spec
      .given([...lockedUntilAdmin, lockoutCleared(T0 - SECOND, true)])
      .when(verifySignIn({ nowMs: T0, proof: totpProof(wrongCodeAt(SECRET_A, T0), SECRET_A) }))
      .then([verificationFailed(T0, 1)]);
  });
});
