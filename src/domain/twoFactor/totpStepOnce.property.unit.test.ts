import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { SECOND, T0 } from '../testing/clock.ts';
import { SECRET_A, SECRET_B } from '../testing/totpCodes.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { isLocked } from './lockout.ts';
import { initialState, type TwoFactorState } from './state.ts';
import { timeStepAt } from './totp.ts';

type Attempt = {
  readonly waitMs: number;
  readonly stepOffset: number;
  readonly purpose: 'sign-in' | 'regenerate' | 'replace' | 'disable-required' | 'unlock';
};

const attempts = fc.array(
  fc.record({
    waitMs: fc.oneof(fc.constantFrom(0, 30 * SECOND, 61 * SECOND), fc.integer({ min: 0, max: 45 * SECOND })),
    stepOffset: fc.integer({ min: -3, max: 3 }),
    purpose: fc.constantFrom(
      'sign-in',
      'sign-in',
      'sign-in',
      'regenerate',
      'replace',
      'disable-required',
      'unlock',
    ),
  }),
  { minLength: 1, maxLength: 60 },
) as fc.Arbitrary<Attempt[]>;

/** The TOTP steps each authenticator accepted, in the order of the events. */
function acceptedStepsPerAuthenticator(events: readonly TwoFactorEvent[]): number[][] {
  const perAuthenticator: number[][] = [];
  let state: TwoFactorState = initialState();
  for (const event of events) {
    switch (event.type) {
      case 'TwoFactorEnabled':
      case 'AuthenticatorReplaced':
        perAuthenticator.push([event.data.step]);
        break;
      case 'SignInVerified':
      case 'CodesRegenerated':
      case 'TwoFactorDisabled':
        if (event.data.step !== null) perAuthenticator.at(-1)?.push(event.data.step);
        break;
      case 'EnrollmentStarted':
        if (event.data.proof?.step != null && state.enabled)
          perAuthenticator.at(-1)?.push(event.data.proof.step);
        break;
    }
    state = evolve(state, event);
  }
  return perAuthenticator;
}

describe('property: no TOTP step is ever accepted twice', () => {
  it('accepted steps of an authenticator are strictly increasing, whatever codes arrive when', () => {
    fc.assert(
      fc.property(attempts, (sequence) => {
        const account = new TwoFactorAccount(T0);
        account.enable(SECRET_A);
        for (const attempt of sequence) {
          account.advance(attempt.waitMs);
          const code = account.currentCode(attempt.stepOffset);
          const proof = account.totp(code);
          const lastAccepted = account.state.authenticators[0]!.lastAcceptedStep;
          const locked = isLocked(account.state.lockouts.app, account.nowMs);
          const step = timeStepAt(account.nowMs) + attempt.stepOffset;
          let result: ReturnType<TwoFactorAccount['signIn']> | null = null;
          if (attempt.purpose === 'sign-in') result = account.signIn(proof);
          if (attempt.purpose === 'regenerate') result = account.regenerate(proof);
          if (attempt.purpose === 'replace') result = account.start(SECRET_B, proof);
          if (attempt.purpose === 'disable-required') account.disable(proof, true);
          if (attempt.purpose === 'unlock') account.unlock();
          if (result !== null) {
            // the oracle: accepted exactly when unlocked, within ±1 step and later than the last one
            // (locked: refused, recorded once a lock; the very last accepted code: told apart, not counted)
            const inWindow = Math.abs(attempt.stepOffset) <= 1;
            const expected = !locked && inWindow && step > lastAccepted;
            const verdict = result.rejected ?? result.outcome?.kind;
            if (expected) expect(verdict).toBe('accepted');
            else if (locked) expect(verdict).toBe('locked');
            else if (inWindow && step === lastAccepted) expect(verdict).toBe('code-already-used');
            else expect(verdict).toBe('invalid-code');
          }
        }
        for (const steps of acceptedStepsPerAuthenticator(account.events)) {
          for (let i = 1; i < steps.length; i++) expect(steps[i]!).toBeGreaterThan(steps[i - 1]!);
        }
      }),
      { numRuns: 150 },
    );
  });
});
