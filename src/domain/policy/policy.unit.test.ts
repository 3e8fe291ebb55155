import { describe, expect, it } from 'vitest';
import type { CommandMetadata } from '../shared/message.ts';
import { upcast } from '../shared/upcast.ts';
import { HOUR, iso, MINUTE, T0 } from '../testing/clock.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { ADMIN } from '../testing/metadata.ts';
import { changeRequirement as change, requirementChanged as changed } from '../testing/requirement.ts';
import {
  initialPolicyState,
  POLICY_SCHEMA_VERSIONS,
  POLICY_STREAM,
  policyDecider,
  requirementOf,
} from './policy.ts';
import { policyUpcasters } from './upcasters.ts';

const spec = deciderSpecification(policyDecider);

describe('the instance policy: require 2FA for all users', () => {
  it('is off on a new instance, never updated, with no grace period', () => {
    expect(initialPolicyState()).toEqual({
      requireTwoFactor: false,
      gracePeriodHours: 0,
      requiredSince: null,
      updatedAt: null,
      updatedBy: null,
    });
    expect(POLICY_STREAM).toBe('policy-instance');
    expect(POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged).toBe(2);
  });

  it('an administrator turns it on: the change records the previous value, and a period begins', () => {
    const { state } = spec
      .given([])
      .when(change(true, T0))
      .then([changed(true, false, T0)]);
    expect(state).toEqual({
      requireTwoFactor: true,
      gracePeriodHours: 0,
      requiredSince: iso(T0),
      updatedAt: iso(T0),
      updatedBy: 'admin-7',
    });
  });

  it('an administrator turns it on with a grace period of 72 hours', () => {
    const { state } = spec
      .given([])
      .when(change(true, T0, 72))
      .then([changed(true, false, T0, 72, 0)]);
    expect(state).toMatchObject({ requireTwoFactor: true, gracePeriodHours: 72, requiredSince: iso(T0) });
  });

  it('changing the grace while it is required continues the period, and records the previous grace', () => {
    const { state } = spec
      .given([changed(true, false, T0 - HOUR, 72)])
      .when(change(true, T0, 24))
      .then([changed(true, true, T0, 24, 72)]);
    expect(state).toMatchObject({ gracePeriodHours: 24, requiredSince: iso(T0 - HOUR), updatedAt: iso(T0) });
  });

  it('an administrator turns it off again: the period ends', () => {
    const { state } = spec
      .given([changed(true, false, T0 - MINUTE)])
      .when(change(false, T0))
      .then([changed(false, true, T0)]);
    expect(state.requireTwoFactor).toBe(false);
    expect(state.requiredSince).toBeNull();
    expect(requirementOf(state)).toBeNull();
  });

  it('turned on again after being off, it is a new period that starts then', () => {
    const { state } = spec
      .given([changed(true, false, T0 - 2 * HOUR, 72), changed(false, true, T0 - HOUR, 0, 72)])
      .when(change(true, T0, 72))
      .then([changed(true, false, T0, 72, 0)]);
    expect(requirementOf(state)).toEqual({ sinceMs: T0, gracePeriodHours: 72 });
  });

  it('setting what is already set is still recorded: it is an administrator’s act', () => {
    spec
      .given([changed(true, false, T0 - MINUTE)])
      .when(change(true, T0))
      .then([changed(true, true, T0)]);
  });

  it.each([-1, 8761, 1.5, Number.NaN])('refuses a grace period of %s hours', (hours) => {
    expect(() => policyDecider.decide(change(true, T0, hours), initialPolicyState())).toThrow(RangeError);
  });

  it('takes a grace period of up to a year (8760 hours)', () => {
    spec
      .given([])
      .when(change(true, T0, 8760))
      .then([changed(true, false, T0, 8760, 0)]);
  });

  it('evolve keeps when and by whom it was last changed', () => {
    const other: CommandMetadata = { ...ADMIN, actor: { role: 'cli', id: 'root' } };
    const state = [changed(true, false, T0 - MINUTE), changed(false, true, T0, 0, 0, other)].reduce(
      policyDecider.evolve,
      policyDecider.initialState(),
    );
    expect(state).toMatchObject({ requireTwoFactor: false, updatedAt: iso(T0), updatedBy: 'root' });
  });

  it('a change by an actor without an id records updatedBy as null', () => {
    const system: CommandMetadata = { ...ADMIN, actor: { role: 'system', id: null } };
    const state = policyDecider.evolve(initialPolicyState(), changed(true, false, T0, 0, 0, system));
    expect(state.updatedBy).toBeNull();
  });

  it('the event carries the command metadata and its schema version', () => {
    const [event] = policyDecider.decide(change(true, T0), initialPolicyState());
    expect(event?.metadata).toEqual({
      ...ADMIN,
      schemaVersion: POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged,
    });
  });

  it('a version 1 change, from before grace periods, reads as a grace of 0 hours', () => {
    const v1 = { requireTwoFactor: true, previous: false, at: iso(T0) };
    expect(upcast(policyUpcasters, 'TwoFactorRequirementChanged', v1, 1, 2)).toEqual({
      ...v1,
      gracePeriodHours: 0,
      previousGracePeriodHours: 0,
    });
  });
});
