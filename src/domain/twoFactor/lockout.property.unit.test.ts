import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { HOUR, MINUTE, SECOND, STEP_MS, T0 } from '../testing/clock.ts';
import { SECRET_A, wrongCodeAt } from '../testing/totpCodes.ts';
import type { TwoFactorEvent } from './events.ts';
import { FACTORS, FAILURES_BEFORE_PERMANENT_LOCK, type Factor } from './lockout.ts';

type Step =
  | {
      readonly kind: 'fail';
      readonly times: number;
      readonly how: 'sign-in' | 'recovery-code' | 'regenerate' | 'disable';
    }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'succeed' }
  | { readonly kind: 'unlock' };

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    {
      weight: 40,
      arbitrary: fc.record({
        kind: fc.constant('fail' as const),
        times: fc.integer({ min: 1, max: 20 }),
        how: fc.constantFrom(
          'sign-in' as const,
          'recovery-code' as const,
          'regenerate' as const,
          'disable' as const,
        ),
      }),
    },
    {
      weight: 40,
      arbitrary: fc.record({
        kind: fc.constant('wait' as const),
        ms: fc.constantFrom(SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, HOUR, 2 * HOUR, 2 * HOUR, 2 * HOUR),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'succeed' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'unlock' as const }) },
  ),
  { minLength: 100, maxLength: 250 },
);

/** Events after which every factor's run of failures starts again from nothing. */
const endsEveryRun = (event: TwoFactorEvent): boolean =>
  event.type === 'CodesRegenerated' ||
  event.type === 'TwoFactorDisabled' ||
  event.type === 'LockoutCleared' ||
  event.type === 'AdminReset' ||
  event.type === 'TwoFactorEnabled' ||
  event.type === 'AuthenticatorReplaced';

/** …and after which one factor's run does. */
const endsARun = (event: TwoFactorEvent, factor: Factor): boolean =>
  endsEveryRun(event) ||
  (factor === 'app'
    ? (event.type === 'SignInVerified' && event.data.method === 'totp') ||
      (event.type === 'EnrollmentStarted' && event.data.proof !== null)
    : event.type === 'RecoveryCodeConsumed');

describe('property: never more than 100 consecutive failed checks of one factor', () => {
  it('a run of VerificationFailed of one factor never exceeds 100, and each counts its place in the run', () => {
    let longestRunSeen = 0;
    fc.assert(
      fc.property(steps, (sequence) => {
        const account = new TwoFactorAccount(T0);
        account.enable(SECRET_A);
        for (const step of sequence) {
          if (step.kind === 'wait') account.advance(step.ms);
          if (step.kind === 'unlock') account.unlock();
          if (step.kind === 'succeed') account.advance(STEP_MS).signIn(account.totp(account.currentCode()));
          if (step.kind === 'fail') {
            for (let i = 0; i < step.times; i++) {
              account.advance(SECOND);
              const wrong = account.totp(wrongCodeAt(SECRET_A, account.nowMs));
              if (step.how === 'sign-in') account.signIn(wrong);
              if (step.how === 'recovery-code') account.signIn(account.recovery('zzzzz-zzzzz'));
              if (step.how === 'regenerate') account.regenerate(wrong);
              if (step.how === 'disable') account.disable(wrong);
            }
          }
        }
        const runs: Record<Factor, number> = { app: 0, 'recovery-codes': 0 };
        for (const event of account.events) {
          for (const factor of FACTORS) if (endsARun(event, factor)) runs[factor] = 0;
          if (event.type === 'VerificationFailed') {
            const run = ++runs[event.data.factor];
            expect(run).toBeLessThanOrEqual(FAILURES_BEFORE_PERMANENT_LOCK);
            expect(event.data.consecutiveFailures).toBe(run);
            longestRunSeen = Math.max(longestRunSeen, run);
          }
        }
      }),
      { numRuns: 100 },
    );
    // the generator must reach the limit, or the property says nothing about it
    expect(longestRunSeen).toBe(FAILURES_BEFORE_PERMANENT_LOCK);
  }, 30_000);
});
