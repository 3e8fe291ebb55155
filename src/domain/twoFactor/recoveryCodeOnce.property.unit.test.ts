import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { MINUTE, T0 } from '../testing/clock.ts';
import { SECRET_A, SECRET_B } from '../testing/totpCodes.ts';
import { isLocked } from './lockout.ts';
import { RECOVERY_CODE_RESUBMIT_MS } from './recoveryCodes.ts';

type Step =
  | { readonly kind: 'use'; readonly setAge: number; readonly index: number; readonly sloppy: boolean }
  | { readonly kind: 'replace'; readonly setAge: number; readonly index: number }
  | { readonly kind: 'regenerate' }
  | { readonly kind: 'unlock' };

const steps: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('use' as const),
        setAge: fc.integer({ min: 0, max: 2 }),
        index: fc.integer({ min: 0, max: 9 }),
        sloppy: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('replace' as const),
        setAge: fc.integer({ min: 0, max: 1 }),
        index: fc.integer({ min: 0, max: 9 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'regenerate' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'unlock' as const }) },
  ),
  { minLength: 1, maxLength: 80 },
);

const sloppily = (code: string) => ` ${code.toUpperCase().replace('-', ' ')} `;

describe('property: no recovery code is ever accepted twice', () => {
  it('each digest of every set is consumed at most once, only while its set is in force and not locked', () => {
    fc.assert(
      fc.property(steps, (sequence) => {
        const account = new TwoFactorAccount(T0);
        account.enable(SECRET_A);
        const consumedDigests: string[] = [];
        const usedCodes = new Set<string>();
        let lastUsed = null as { code: string; atMs: number } | null;
        for (const step of sequence) {
          account.advance(MINUTE);
          if (step.kind === 'regenerate') {
            account.regenerate(account.totp(account.currentCode()));
            continue;
          }
          if (step.kind === 'unlock') {
            account.unlock();
            continue;
          }
          const sets = account.issuedSets();
          const issued = sets[sets.length - 1 - step.setAge];
          const code = issued?.codes[step.index] ?? '00000-00000';
          const typed = step.kind === 'use' && step.sloppy ? sloppily(code) : code;
          const inForce = account.codesInForce()?.codes.includes(code) ?? false;
          // The recovery codes' own lockout decides; the app's never blocks them.
          const codesLocked = isLocked(account.state.lockouts['recovery-codes'], account.nowMs);
          const digestsBefore = account.state.recoveryCodes?.set.digests ?? [];
          const result =
            step.kind === 'use'
              ? account.signIn(account.recovery(typed))
              : account.start(SECRET_B, account.recovery(typed));
          if (step.kind === 'replace' && result.outcome?.kind === 'accepted') account.confirm();

          // the oracle: refused unchecked while the recovery codes are locked; else accepted exactly
          // when the code is an unused one of the set in force, the app locked or not; the one used
          // last, sent again within two minutes, is told apart; anything else is a wrong code
          const expected = !codesLocked && inForce && !usedCodes.has(code);
          const resent =
            !codesLocked &&
            inForce &&
            lastUsed?.code === code &&
            account.nowMs - lastUsed.atMs <= RECOVERY_CODE_RESUBMIT_MS;
          const verdict = result.rejected ?? result.outcome?.kind;
          if (expected) expect(verdict).toBe('accepted');
          else if (resent) expect(verdict).toBe('code-already-used');
          else expect(verdict).toBe(codesLocked ? 'locked' : 'invalid-code');
          if (expected) {
            usedCodes.add(code);
            lastUsed = { code, atMs: account.nowMs };
          }

          for (const event of result.events) {
            if (event.type === 'RecoveryCodeConsumed') consumedDigests.push(digestsBefore[event.data.index]!);
          }
        }
        expect(new Set(consumedDigests).size).toBe(consumedDigests.length);
        expect(consumedDigests.length).toBe(usedCodes.size);
      }),
      { numRuns: 150 },
    );
  });
});
