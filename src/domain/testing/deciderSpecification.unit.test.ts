import { describe, expect, it } from 'vitest';
import { twoFactorDecider } from '../twoFactor/decider.ts';
import { T0 } from './clock.ts';
import { startEnrollment } from './commands.ts';
import { deciderSpecification } from './deciderSpecification.ts';
import { enrollmentStarted } from './events.ts';
import { enabled, neverEnrolled, SEALED_A, SEALED_B } from './histories.ts';

const spec = deciderSpecification(twoFactorDecider);

describe('the given/when/then helper itself', () => {
  it('passes when the decided events are the expected ones, and returns the state they lead to', () => {
    const { state } = spec
      .given(neverEnrolled)
      .when(startEnrollment({ nowMs: T0, newSecret: SEALED_A }))
      .then([enrollmentStarted(T0, SEALED_A)]);
    expect(state.pending?.secret).toEqual(SEALED_A);
  });

  it('fails when the decided events differ', () => {
    expect(() =>
      spec
        .given(neverEnrolled)
        .when(startEnrollment({ nowMs: T0, newSecret: SEALED_A }))
        .then([enrollmentStarted(T0, SEALED_B)]),
    ).toThrow();
  });

  it('fails when a rejection was expected but events were decided', () => {
    expect(() =>
      spec
        .given(neverEnrolled)
        .when(startEnrollment({ nowMs: T0, newSecret: SEALED_A }))
        .thenThrows('already-enabled'),
    ).toThrow();
  });

  it('fails when the rejection has another code', () => {
    expect(() =>
      spec
        .given(enabled)
        .when(startEnrollment({ nowMs: T0, newSecret: SEALED_B }))
        .thenThrows('not-enabled'),
    ).toThrow();
  });
});
