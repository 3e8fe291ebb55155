import { describe, expect, it } from 'vitest';
import { MINUTE, T0 } from '../testing/clock.ts';
import {
  countRefusedAttempts,
  eraseUser,
  startEnrollment,
  totpProof,
  verifySignIn,
} from '../testing/commands.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { adminReset, refusedAttemptsCounted, userErased } from '../testing/events.ts';
import {
  enabled,
  type History,
  lockedUntilAdmin,
  neverEnrolled,
  pendingLive,
  SEALED_B,
} from '../testing/histories.ts';
import { WEB } from '../testing/metadata.ts';
import { codeAt, SECRET_A } from '../testing/totpCodes.ts';
import { decide } from './decide.ts';
import { twoFactorDecider } from './decider.ts';
import type { RefusedAttemptsCounted } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState } from './state.ts';

const fold = (history: History) => history.reduce(evolve, initialState());

const spec = deciderSpecification(twoFactorDecider);
const erase = eraseUser({ nowMs: T0, reason: 'erasure request' });

describe('EraseUser: erasure on request', () => {
  it.each<[string, History, 'disabled' | 'pending' | 'enabled']>([
    ['never enrolled', neverEnrolled, 'disabled'],
    ['pending', pendingLive, 'pending'],
    ['enabled', enabled, 'enabled'],
    ['locked until an administrator unlocks', lockedUntilAdmin, 'enabled'],
  ])('%s: works, recording the status it erased', (_name, history, previousStatus) => {
    const { state } = spec
      .given(history)
      .when(erase)
      .then([userErased(T0, previousStatus)]);
    expect(state).toEqual({ ...initialState(), erasedAtMs: T0 });
  });

  it('records no end-user address or agent, even when the request carried them', () => {
    expect(WEB).toHaveProperty('endUserIp');
    const [event] = decide(eraseUser({ nowMs: T0, metadata: WEB }), fold(enabled));
    expect(event?.type).toBe('UserErased');
    expect(event?.metadata).not.toHaveProperty('endUserIp');
    expect(event?.metadata).not.toHaveProperty('endUserAgent');
  });

  it('can be repeated: a retry after an erasure cut off records it again', () => {
    spec
      .given([...enabled, userErased(T0 - MINUTE, 'enabled')])
      .when(erase)
      .then([userErased(T0, 'disabled')]);
  });

  it('afterwards the old authenticator no longer works, and the user can enroll afresh', () => {
    const erasedHistory = [...enabled, userErased(T0, 'enabled')];
    spec
      .given(erasedHistory)
      .when(verifySignIn({ nowMs: T0 + MINUTE, proof: totpProof(codeAt(SECRET_A, T0 + MINUTE), SECRET_A) }))
      .thenThrows('not-enabled');
    const [started] = decide(
      startEnrollment({ nowMs: T0 + MINUTE, newSecret: SEALED_B }),
      fold(erasedHistory),
    );
    expect(started?.type).toBe('EnrollmentStarted');
  });
});

describe('refusals counted before an erasure, recorded after it', () => {
  const erasedHistory = [...lockedUntilAdmin, userErased(T0, 'enabled')];
  const IPS = ['198.51.100.99', '203.0.113.7'];
  /** The count as recorded for an erased user: nothing of theirs, not even the id the web API acted for. */
  const withoutEndUser = (event: RefusedAttemptsCounted): RefusedAttemptsCounted => ({
    ...event,
    metadata: { ...event.metadata, actor: { role: 'web', id: null } },
  });

  it('are recorded as a count without the erased user’s addresses or id', () => {
    spec
      .given(erasedHistory)
      .when(
        countRefusedAttempts({ nowMs: T0 + MINUTE, attempts: 3, firstAtMs: T0 - MINUTE, endUserIps: IPS }),
      )
      .then([withoutEndUser(refusedAttemptsCounted(T0 + MINUTE, 3, T0 - MINUTE, T0 + MINUTE))]);
  });

  it('keep their addresses when the count began after the erasure, as for anyone', () => {
    spec
      .given(erasedHistory)
      .when(
        countRefusedAttempts({
          nowMs: T0 + 2 * MINUTE,
          attempts: 2,
          firstAtMs: T0 + MINUTE,
          endUserIps: IPS,
        }),
      )
      .then([refusedAttemptsCounted(T0 + 2 * MINUTE, 2, T0 + MINUTE, T0 + 2 * MINUTE, IPS)]);
  });

  it('lose their addresses and id even when the user was disabled or reset after the erasure', () => {
    spec
      .given([...erasedHistory, adminReset(T0 + MINUTE, 'disabled')])
      .when(
        countRefusedAttempts({
          nowMs: T0 + 2 * MINUTE,
          attempts: 1,
          firstAtMs: T0 - MINUTE,
          endUserIps: IPS,
        }),
      )
      .then([withoutEndUser(refusedAttemptsCounted(T0 + 2 * MINUTE, 1, T0 - MINUTE, T0 + 2 * MINUTE))]);
  });
});
