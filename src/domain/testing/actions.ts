import fc from 'fast-check';
import type { Proof } from '../twoFactor/commands.ts';
import type { TwoFactorAccount } from './account.ts';
import { HOUR, MINUTE, SECOND } from './clock.ts';
import { codeAt, SECRET_A, SECRET_B, SECRET_C, wrongCodeAt } from './totpCodes.ts';

/**
 * Random user and admin behaviour for property tests, applied to a TwoFactorAccount the
 * way the command handler would: codes of the right or wrong authenticator, drifting
 * clocks, recovery codes typed sloppily, old sets, waits of every length.
 */
export type ProofChoice =
  | { readonly method: 'totp'; readonly stepOffset: number; readonly wrong: boolean }
  | {
      readonly method: 'recovery-code';
      /** 0: the set issued last, 1: the one before, … */
      readonly setAge: number;
      readonly index: number;
      readonly sloppy: boolean;
    };

export type Action =
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'start'; readonly secret: 0 | 1 | 2; readonly proof: ProofChoice | null }
  | { readonly kind: 'confirm'; readonly stepOffset: number; readonly wrong: boolean }
  | { readonly kind: 'signIn'; readonly proof: ProofChoice }
  | { readonly kind: 'regenerate'; readonly stepOffset: number; readonly wrong: boolean }
  | { readonly kind: 'disable'; readonly proof: ProofChoice; readonly required: boolean }
  | { readonly kind: 'reset' }
  | { readonly kind: 'unlock' };

const SECRETS = [SECRET_A, SECRET_B, SECRET_C] as const;

export const waitArbitrary = fc.record({
  kind: fc.constant('wait' as const),
  ms: fc.oneof(
    fc.constantFrom(0, SECOND, 29 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 16 * MINUTE, HOUR, 2 * HOUR),
    fc.integer({ min: 0, max: 3 * MINUTE }),
  ),
});

export const totpChoice = fc.record({
  method: fc.constant('totp' as const),
  stepOffset: fc.integer({ min: -2, max: 2 }),
  wrong: fc.boolean(),
});

export const recoveryChoice = fc.record({
  method: fc.constant('recovery-code' as const),
  setAge: fc.integer({ min: 0, max: 2 }),
  index: fc.integer({ min: 0, max: 9 }),
  sloppy: fc.boolean(),
});

export const proofChoice: fc.Arbitrary<ProofChoice> = fc.oneof(totpChoice, recoveryChoice);

/** Any command in any order, for replay and security properties. */
export const anyAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: waitArbitrary },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      secret: fc.constantFrom(0 as const, 1 as const, 2 as const),
      proof: fc.option(proofChoice, { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('confirm' as const),
      stepOffset: fc.integer({ min: -2, max: 2 }),
      wrong: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('signIn' as const), proof: proofChoice }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('regenerate' as const),
      stepOffset: fc.integer({ min: -2, max: 2 }),
      wrong: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('disable' as const),
      proof: proofChoice,
      required: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unlock' as const }) },
);

/** How a user might type a recovery code: upper case, spaces instead of the dash. */
export const sloppily = (code: string): string => ` ${code.toUpperCase().replace('-', ' ')} `;

/** The plaintext recovery code a choice picks, or a code of no set when there is none that old. */
export function recoveryCodeOf(
  account: TwoFactorAccount,
  choice: ProofChoice & { method: 'recovery-code' },
): string {
  const sets = account.issuedSets();
  const set = sets[sets.length - 1 - choice.setAge];
  const code = set?.codes[choice.index] ?? '00000-00000';
  return choice.sloppy ? sloppily(code) : code;
}

function totpCode(
  account: TwoFactorAccount,
  stepOffset: number,
  wrong: boolean,
  secret: string | null,
): string {
  const secretBase32 = secret ?? SECRET_A;
  return wrong ? wrongCodeAt(secretBase32, account.nowMs) : codeAt(secretBase32, account.nowMs, stepOffset);
}

export function proofOf(account: TwoFactorAccount, choice: ProofChoice): Proof {
  if (choice.method === 'totp') {
    return account.totp(totpCode(account, choice.stepOffset, choice.wrong, account.activeSecret()));
  }
  return account.recovery(recoveryCodeOf(account, choice));
}

/** Applies one action; rejections are part of the behaviour and are simply not recorded. */
export function apply(account: TwoFactorAccount, action: Action): void {
  switch (action.kind) {
    case 'wait':
      account.advance(action.ms);
      return;
    case 'start':
      account.start(SECRETS[action.secret], action.proof === null ? null : proofOf(account, action.proof));
      return;
    case 'confirm':
      account.confirm(totpCode(account, action.stepOffset, action.wrong, account.pendingSecret()));
      return;
    case 'signIn':
      account.signIn(proofOf(account, action.proof));
      return;
    case 'regenerate':
      account.regenerate(
        account.totp(totpCode(account, action.stepOffset, action.wrong, account.activeSecret())),
      );
      return;
    case 'disable':
      account.disable(proofOf(account, action.proof), action.required);
      return;
    case 'reset':
      account.reset();
      return;
    case 'unlock':
      account.unlock();
      return;
  }
}
