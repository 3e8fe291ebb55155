import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TwoFactorAccount } from '../testing/account.ts';
import { anyAction, apply } from '../testing/actions.ts';
import { T0 } from '../testing/clock.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';
import { twoFactorStatus } from './status.ts';

const fold = (events: readonly TwoFactorEvent[]) => events.reduce(evolve, initialState());

describe('property: replaying the history rebuilds the same state', () => {
  it('folding all events from the start equals the state built step by step, also after a JSON round trip', () => {
    fc.assert(
      fc.property(fc.array(anyAction, { maxLength: 60 }), (actions) => {
        const account = new TwoFactorAccount(T0);
        for (const action of actions) apply(account, action);

        const replayed = fold(account.events);
        expect(replayed).toEqual(account.state);

        const stored = JSON.parse(JSON.stringify(account.events)) as TwoFactorEvent[];
        const fromStore = fold(stored);
        expect(fromStore).toEqual(account.state);
        const context = { nowMs: account.nowMs, requireTwoFactor: false };
        expect(twoFactorStatus('user-1', fromStore, context)).toEqual(
          twoFactorStatus('user-1', account.state, context),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('the state is plain JSON, so a snapshot of it is exact', () => {
    fc.assert(
      fc.property(fc.array(anyAction, { maxLength: 40 }), (actions) => {
        const account = new TwoFactorAccount(T0);
        for (const action of actions) apply(account, action);
        expect(JSON.parse(JSON.stringify(account.state))).toEqual(account.state);
      }),
      { numRuns: 100 },
    );
  });
});
