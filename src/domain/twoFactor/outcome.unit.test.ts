import { describe, expect, it } from 'vitest';
import { T0 } from '../testing/clock.ts';
import {
  codesRegenerated,
  enrollmentConfirmationFailed,
  enrollmentStarted,
  factorLocked,
  recoveryCodeConsumed,
  signInVerified,
  twoFactorDisabled,
  verificationFailed,
  verificationRefused,
} from '../testing/events.ts';
import { SEALED_A } from '../testing/histories.ts';
import { CODES_2 } from '../testing/recoveryCodes.ts';
import { outcomeOf } from './outcome.ts';

describe('outcomeOf: what the caller is told', () => {
  it('successes are accepted', () => {
    expect(outcomeOf([signInVerified(T0, 'totp', 1)])).toEqual({ kind: 'accepted' });
    expect(
      outcomeOf([recoveryCodeConsumed(T0, 0, 9, 'sign-in'), signInVerified(T0, 'recovery-code', null)]),
    ).toEqual({ kind: 'accepted' });
    expect(outcomeOf([codesRegenerated(T0, 1, CODES_2.set)])).toEqual({ kind: 'accepted' });
    expect(outcomeOf([twoFactorDisabled(T0, 'totp', 1)])).toEqual({ kind: 'accepted' });
    expect(outcomeOf([enrollmentStarted(T0, SEALED_A)])).toEqual({ kind: 'accepted' });
  });

  it('a failed check is an invalid code, also when it locks the factor', () => {
    expect(outcomeOf([verificationFailed(T0, 1)])).toEqual({ kind: 'invalid-code' });
    expect(outcomeOf([verificationFailed(T0, 5), factorLocked(T0, 5, T0 + 60_000)])).toEqual({
      kind: 'invalid-code',
    });
  });

  it('a failed enrollment confirmation is an invalid code', () => {
    expect(outcomeOf([enrollmentConfirmationFailed(T0)])).toEqual({ kind: 'invalid-code' });
  });

  it('a refused attempt is locked, with the end of the lock or null for locked until an admin', () => {
    expect(outcomeOf([verificationRefused(T0, T0 + 60_000)])).toEqual({
      kind: 'locked',
      factor: 'app',
      lockedUntil: new Date(T0 + 60_000).toISOString(),
    });
    expect(outcomeOf([verificationRefused(T0, null)])).toEqual({
      kind: 'locked',
      factor: 'app',
      lockedUntil: null,
    });
    expect(outcomeOf([verificationRefused(T0, null, 'sign-in', 'recovery-code')])).toEqual({
      kind: 'locked',
      factor: 'recovery-codes',
      lockedUntil: null,
    });
  });
});
