import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { anyAction, apply } from '../testing/actions.ts';
import { MINUTE, SECOND, T0 } from '../testing/clock.ts';
import { totpProof } from '../testing/commands.ts';
import { sealSecret } from '../testing/secrets.ts';
import { codeAt, SECRET_A, SECRET_B, SECRET_C, wrongCodeAt } from '../testing/totpCodes.ts';
import type { TwoFactorCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';

/**
 * A full life: enrollment, sign-ins by code and recovery code, regeneration, a new phone,
 * failures and a lockout, unlock, disable, reset and a second enrollment. Records every
 * code presented, so the test can look for each of them in the events.
 */
function fullLife() {
  const presented: string[] = [];
  const account = new TwoFactorAccount(T0);
  const code = (offset = 0) => {
    const c = account.currentCode(offset);
    presented.push(c);
    return c;
  };
  const confirm = () => {
    const c = codeAt(account.pendingSecret()!, account.nowMs);
    presented.push(c);
    return account.confirm(c);
  };

  account.start(SECRET_A);
  account.advance(10 * SECOND);
  const wrong = wrongCodeAt(SECRET_A, account.nowMs);
  presented.push(wrong);
  account.confirm(wrong);
  account.advance(5 * SECOND);
  confirm();
  account.advance(MINUTE);
  account.signIn(account.totp(code()));
  account.signIn(account.totp(code(1)));
  account.advance(2 * MINUTE);
  account.signIn(account.recovery(account.codesInForce()!.codes[0]!));
  account.signIn(account.recovery(account.codesInForce()!.codes[0]!.toUpperCase()));
  account.regenerate(account.totp(code()));
  account.advance(MINUTE);
  account.start(SECRET_B, account.recovery(account.codesInForce()!.codes[1]!));
  account.advance(10 * SECOND);
  confirm();
  account.advance(MINUTE);
  for (let i = 0; i < 6; i++) account.signIn(account.totp(code(-5)));
  account.unlock();
  account.advance(MINUTE);
  account.disable(account.totp(code()));
  account.start(SECRET_C);
  account.advance(MINUTE);
  confirm();
  account.advance(MINUTE);
  account.reset();
  return { account, presented };
}

const plaintextForms = (code: string) => [
  code,
  code.replace('-', ''),
  code.toUpperCase(),
  code.toUpperCase().replace('-', ''),
];

describe('security: what never enters an event', () => {
  const { account, presented } = fullLife();
  const json = JSON.stringify(account.events);

  it('the flow under test enrolled three authenticators and issued several recovery-code sets', () => {
    const types = account.events.map((e) => e.type);
    expect(types.filter((t) => t === 'TwoFactorEnabled')).toHaveLength(2);
    expect(types).toContain('AuthenticatorReplaced');
    expect(types).toContain('CodesRegenerated');
    expect(types).toContain('FactorLocked');
    expect(account.issuedSets().length).toBeGreaterThanOrEqual(4);
  });

  it('no base32 secret appears in any event, in any case', () => {
    for (const secret of [SECRET_A, SECRET_B, SECRET_C]) {
      expect(json).not.toContain(secret);
      expect(json.toLowerCase()).not.toContain(secret.toLowerCase());
      expect(json).not.toContain(secret.slice(0, 16));
    }
  });

  it('events carry the encrypted secret that was handed in, as it was', () => {
    const secrets = account.events.flatMap((e) =>
      e.type === 'EnrollmentStarted' || e.type === 'TwoFactorEnabled' || e.type === 'AuthenticatorReplaced'
        ? [e.data.secret]
        : [],
    );
    expect(secrets.length).toBeGreaterThan(0);
    const sealed = [SECRET_A, SECRET_B, SECRET_C].map(sealSecret);
    for (const secret of secrets) expect(sealed).toContainEqual(secret);
  });

  it('no recovery code appears in any event, in any form', () => {
    const codes = account.issuedSets().flatMap((set) => set.codes);
    expect(codes.length).toBeGreaterThanOrEqual(40);
    for (const code of codes) for (const form of plaintextForms(code)) expect(json).not.toContain(form);
  });

  it('no TOTP code presented, right or wrong, appears in any event', () => {
    expect(presented.length).toBeGreaterThan(10);
    for (const code of presented) expect(json).not.toContain(code);
  });

  it('the decrypted secret handed in with a command is not copied onto its events', () => {
    fc.assert(
      fc.property(fc.array(anyAction, { maxLength: 40 }), (actions) => {
        const random = new TwoFactorAccount(T0);
        for (const action of actions) apply(random, action);
        const text = JSON.stringify(random.events);
        for (const secret of [SECRET_A, SECRET_B, SECRET_C]) expect(text).not.toContain(secret);
        for (const set of random.issuedSets()) for (const code of set.codes) expect(text).not.toContain(code);
      }),
      { numRuns: 100 },
    );
  });

  it('decide does not change the state or the command it is given', () => {
    const state = account.events.slice(0, 6).reduce(evolve, initialState());
    const frozenState = structuredClone(state);
    const command: TwoFactorCommand = {
      type: 'VerifySignIn',
      data: {
        userId: 'user-1',
        nowMs: T0,
        proof: totpProof('123456', SECRET_A),
      },
      metadata: account.events[0]!.metadata,
    };
    const frozenCommand = structuredClone(command);
    const events: readonly TwoFactorEvent[] = decide(command, state);
    expect(events.length).toBeGreaterThan(0);
    expect(state).toEqual(frozenState);
    expect(command).toEqual(frozenCommand);
  });
});
