import { describe, expect, it } from 'vitest';
import type { CommandMetadata } from '../shared/message.ts';
import { iso, MINUTE, T0 } from '../testing/clock.ts';
import { deciderSpecification } from '../testing/deciderSpecification.ts';
import { ADMIN } from '../testing/metadata.ts';
import {
  type ChangeTwoFactorRequirement,
  initialPolicyState,
  POLICY_SCHEMA_VERSIONS,
  POLICY_STREAM,
  policyDecider,
  type TwoFactorRequirementChanged,
} from './policy.ts';

const spec = deciderSpecification(policyDecider);

const change = (
  requireTwoFactor: boolean,
  nowMs = T0,
  metadata: CommandMetadata = ADMIN,
): ChangeTwoFactorRequirement => ({
  type: 'ChangeTwoFactorRequirement',
  data: { requireTwoFactor, nowMs },
  metadata,
});

const changed = (
  requireTwoFactor: boolean,
  previous: boolean,
  nowMs = T0,
  metadata: CommandMetadata = ADMIN,
): TwoFactorRequirementChanged => ({
  type: 'TwoFactorRequirementChanged',
  data: { requireTwoFactor, previous, at: iso(nowMs) },
  metadata: { ...metadata, schemaVersion: 1 },
});

describe('the instance policy: require 2FA for all users', () => {
  it('is off on a new instance, never updated', () => {
    expect(initialPolicyState()).toEqual({ requireTwoFactor: false, updatedAt: null, updatedBy: null });
    expect(POLICY_STREAM).toBe('policy-instance');
    expect(POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged).toBe(1);
  });

  it('an administrator turns it on: the change records the previous value', () => {
    const { state } = spec
      .given([])
      .when(change(true))
      .then([changed(true, false)]);
    expect(state).toEqual({ requireTwoFactor: true, updatedAt: iso(T0), updatedBy: 'admin-7' });
  });

  it('an administrator turns it off again', () => {
    const { state } = spec
      .given([changed(true, false, T0 - MINUTE)])
      .when(change(false))
      .then([changed(false, true)]);
    expect(state.requireTwoFactor).toBe(false);
  });

  it('setting what is already set is still recorded: it is an administrator’s act', () => {
    spec
      .given([changed(true, false, T0 - MINUTE)])
      .when(change(true))
      .then([changed(true, true)]);
  });

  it('evolve keeps when and by whom it was last changed', () => {
    const other: CommandMetadata = { ...ADMIN, actor: { role: 'cli', id: 'root' } };
    const state = [changed(true, false, T0 - MINUTE), changed(false, true, T0, other)].reduce(
      policyDecider.evolve,
      policyDecider.initialState(),
    );
    expect(state).toEqual({ requireTwoFactor: false, updatedAt: iso(T0), updatedBy: 'root' });
  });

  it('a change by an actor without an id records updatedBy as null', () => {
    const system: CommandMetadata = { ...ADMIN, actor: { role: 'system', id: null } };
    const state = policyDecider.evolve(initialPolicyState(), changed(true, false, T0, system));
    expect(state.updatedBy).toBeNull();
  });

  it('the event carries the command metadata and its schema version', () => {
    const [event] = policyDecider.decide(change(true), initialPolicyState());
    expect(event?.metadata).toEqual({
      ...ADMIN,
      schemaVersion: POLICY_SCHEMA_VERSIONS.TwoFactorRequirementChanged,
    });
  });
});
