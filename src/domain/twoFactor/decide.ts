import { DomainRejection, FactorLockedRejection, TooSoonRejection } from '../shared/domainError.ts';
import type { CommandMetadata } from '../shared/message.ts';
import { confirmationIsChecked, disablingIsAllowed, proofIsChecked } from './attemptChecks.ts';
import { authenticatorNameProblem, MAX_AUTHENTICATORS, sameAuthenticatorName } from './authenticatorNames.ts';
import type {
  AddAuthenticator,
  ConfirmAuthenticator,
  ConfirmEnrollment,
  CountRefusedAttempts,
  DisableTwoFactor,
  EraseUser,
  Proof,
  RegenerateRecoveryCodes,
  RemoveAuthenticator,
  RenameAuthenticator,
  ResealSecrets,
  ResetTwoFactor,
  StartEnrollment,
  TotpProof,
  TwoFactorCommand,
  UnlockFactor,
  VerifySignIn,
} from './commands.ts';
import { deadlineAfterReset, decideEnrollmentDeadline } from './enrollmentDeadline.ts';
import type { ProofMethod, ProofRecord, TwoFactorEvent, VerificationPurpose } from './events.ts';
import {
  ENROLLMENT_START_WINDOW_MS,
  ENROLLMENT_STARTS_PER_WINDOW,
  type Factor,
  factorOf,
  isTemporarilyLocked,
  lockAfterFailure,
  lockedFactors,
} from './lockout.ts';
import { isJustUsedRecoveryCode, matchRecoveryCode } from './recoveryCodes.ts';
import { TWO_FACTOR_SCHEMA_VERSIONS } from './schema.ts';
import { type Authenticator, recoveryCodesRemaining, statusName, type TwoFactorState } from './state.ts';
import { acceptedTotpStep, isLastAcceptedCode } from './totp.ts';

/*
 * The two-factor decider's `decide`: one small function per command, over the shared proof
 * check. About 580 lines kept in one file, as Emmett keeps a decider's decide: every rule of
 * the aggregate's commands can be read in one place; the rules that stand alone have their
 * own files (lockout, attempt checks, TOTP steps, recovery codes).
 */

/** A pending enrollment must be confirmed within this time. */
export const ENROLLMENT_TTL_MS = 15 * 60_000;

type EventOf<T extends TwoFactorEvent['type']> = Extract<TwoFactorEvent, { type: T }>;

const iso = (ms: number): string => new Date(ms).toISOString();

function emit<T extends TwoFactorEvent['type']>(
  type: T,
  data: EventOf<T>['data'],
  metadata: CommandMetadata,
): EventOf<T> {
  return {
    type,
    data,
    metadata: { ...metadata, schemaVersion: TWO_FACTOR_SCHEMA_VERSIONS[type] },
  } as EventOf<T>;
}

type ProofCheck =
  | {
      readonly accepted: true;
      /** how it was proven, as events record it */
      readonly proof: ProofRecord;
      readonly events: readonly TwoFactorEvent[];
    }
  | { readonly accepted: false; readonly events: readonly TwoFactorEvent[] };

type Attempt = {
  readonly data: { readonly userId: string; readonly nowMs: number };
  readonly metadata: CommandMetadata;
};

/**
 * An attempt refused by the locked factor it presented a code of. The first refusal of a lock
 * is recorded; later ones are rejected without an event, for the handler to count, so a flood
 * adds a bounded number of events per lock.
 */
function refused(
  state: TwoFactorState,
  purpose: VerificationPurpose,
  method: ProofMethod,
  { data: { userId, nowMs }, metadata }: Attempt,
): readonly TwoFactorEvent[] {
  const factor = factorOf(method);
  const lockout = state.lockouts[factor];
  const lockedUntil = lockout.permanent ? null : iso(lockout.lockedUntilMs ?? nowMs);
  if (lockout.refusalRecorded) throw new FactorLockedRejection(factor, lockedUntil);
  return [
    emit('VerificationRefused', { userId, at: iso(nowMs), purpose, method, factor, lockedUntil }, metadata),
  ];
}

/**
 * A failed check: recorded, counted against the factor it presented a code of, and locking
 * that factor when it is its 5th, 10th… or 100th failure in a row.
 */
function failed(
  state: TwoFactorState,
  purpose: VerificationPurpose,
  method: ProofMethod,
  { data: { userId, nowMs }, metadata }: Attempt,
): readonly TwoFactorEvent[] {
  const at = iso(nowMs);
  const factor: Factor = factorOf(method);
  const consecutiveFailures = state.lockouts[factor].consecutiveFailures + 1;
  const failure = emit(
    'VerificationFailed',
    { userId, at, purpose, method, factor, consecutiveFailures },
    metadata,
  );
  const lock = lockAfterFailure(consecutiveFailures, nowMs);
  if (lock === undefined) return [failure];
  const lockedUntil = lock === null ? null : iso(lock);
  return [failure, emit('FactorLocked', { userId, at, factor, consecutiveFailures, lockedUntil }, metadata)];
}

/**
 * Checks a code presented for `purpose` against the enabled account. Each factor is locked on
 * its own: a locked app refuses TOTP codes unchecked and locked recovery codes refuse recovery
 * codes unchecked, and neither blocks the other, so a user holding either can always let
 * themselves in. A failure is recorded and may lock its factor; a recovery code is consumed
 * (and ends the app's temporary lock); the code last accepted (a recovery code: just now),
 * sent again, is told apart.
 */
function checkProof(
  state: TwoFactorState,
  proof: Proof,
  purpose: VerificationPurpose,
  command: Attempt,
): ProofCheck {
  const { userId, nowMs } = command.data;
  if (!proofIsChecked(state, proof.method, nowMs)) {
    return { accepted: false, events: refused(state, purpose, proof.method, command) };
  }
  if (proof.method === 'totp') {
    const matched = matchTotpCode(state, proof, nowMs);
    if (matched.accepted !== null) {
      return { accepted: true, proof: { method: 'totp', ...matched.accepted }, events: [] };
    }
    if (matched.lastAccepted) throw alreadyUsed();
  } else {
    const index =
      proof.digest === null || state.recoveryCodes === null
        ? null
        : matchRecoveryCode(state.recoveryCodes.set, state.recoveryCodes.used, proof.digest);
    if (index !== null) {
      const remaining = recoveryCodesRemaining(state) - 1;
      // Ends the app's temporary lock; a disabled app waits for a replacement or an administrator.
      const appLockout = isTemporarilyLocked(state.lockouts.app, nowMs) ? 'lock-ended' : 'kept';
      const consumed = emit(
        'RecoveryCodeConsumed',
        { userId, at: iso(nowMs), index, remaining, purpose, appLockout },
        command.metadata,
      );
      return {
        accepted: true,
        proof: { method: 'recovery-code', step: null, authenticatorId: null },
        events: [consumed],
      };
    }
    if (
      proof.digest !== null &&
      state.recoveryCodes !== null &&
      isJustUsedRecoveryCode(state.recoveryCodes.set, state.recoveryCodes.lastUsed, proof.digest, nowMs)
    ) {
      throw alreadyUsed();
    }
  }
  return { accepted: false, events: failed(state, purpose, proof.method, command) };
}

/**
 * A TOTP code against every confirmed authenticator, each with its own replay step: the
 * first whose code it is at a step later than that authenticator's last, or whether it is
 * the code one of them accepted last. Every authenticator is compared, so the time taken
 * does not tell which one matched.
 */
function matchTotpCode(
  state: TwoFactorState,
  proof: TotpProof,
  nowMs: number,
): {
  readonly accepted: { readonly step: number; readonly authenticatorId: string } | null;
  readonly lastAccepted: boolean;
} {
  let accepted: { step: number; authenticatorId: string } | null = null;
  let lastAccepted = false;
  for (const authenticator of state.authenticators) {
    const opened = proof.secrets.find(({ authenticatorId }) => authenticatorId === authenticator.id);
    if (opened === undefined) continue;
    const check = {
      secretBase32: opened.secretBase32,
      code: proof.code,
      nowMs,
      lastAcceptedStep: authenticator.lastAcceptedStep,
    };
    const step = acceptedTotpStep(check);
    if (step !== null && accepted === null) accepted = { step, authenticatorId: authenticator.id };
    if (isLastAcceptedCode(check)) lastAccepted = true;
  }
  return { accepted, lastAccepted };
}

/** The code that just worked, sent again: told apart from a guess, and not counted as one. */
const alreadyUsed = () => new DomainRejection('code-already-used', 'this code has already been used');

function requireEnabled(state: TwoFactorState): void {
  if (!state.enabled) throw new DomainRejection('not-enabled', 'two-factor authentication is not enabled');
}

function startEnrollment(command: StartEnrollment, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, newSecret, proof, authenticatorId, name } = command.data;
  const started = (proofRecord: ProofRecord | null) =>
    emit(
      'EnrollmentStarted',
      {
        userId,
        at: iso(nowMs),
        authenticatorId,
        name,
        secret: newSecret,
        expiresAt: iso(nowMs + ENROLLMENT_TTL_MS),
        replacement: state.enabled,
        proof: proofRecord,
      },
      command.metadata,
    );
  if (!state.enabled) {
    const starts = state.enrollmentStarts;
    if (
      starts !== null &&
      nowMs - starts.windowStartMs < ENROLLMENT_START_WINDOW_MS &&
      starts.count >= ENROLLMENT_STARTS_PER_WINDOW
    ) {
      throw new TooSoonRejection(
        'too many enrollments started; finish the one in progress or try again later',
        starts.windowStartMs + ENROLLMENT_START_WINDOW_MS,
      );
    }
    return [started(null)];
  }
  if (proof === null) {
    throw new DomainRejection(
      'already-enabled',
      'two-factor authentication is already enabled; a current code or a recovery code is needed to enroll a new authenticator',
    );
  }
  const check = checkProof(state, proof, 'replace-authenticator', command);
  if (!check.accepted) return check.events;
  return [...check.events, started(check.proof)];
}

function confirmEnrollment(command: ConfirmEnrollment, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, code, pendingSecretBase32, newRecoveryCodes } = command.data;
  const { pending } = state;
  // One more authenticator is confirmed on its own route, by its id.
  if (pending === null || pending.kind === 'addition')
    throw new DomainRejection('no-pending-enrollment', 'there is no enrollment to confirm');
  if (nowMs >= pending.expiresAtMs) {
    throw new DomainRejection('enrollment-expired', 'the enrollment expired; start it again');
  }
  // Every confirmation is an attempt, locked out and counted like any other: a replacement
  // hands out fresh recovery codes, and a first enrollment's failures would otherwise grow
  // the log without limit.
  const purpose = state.enabled ? 'replace-authenticator' : 'enrollment';
  if (!confirmationIsChecked(state, nowMs)) return refused(state, purpose, 'totp', command);
  const at = iso(nowMs);
  const step =
    pendingSecretBase32 === null
      ? null
      : acceptedTotpStep({ secretBase32: pendingSecretBase32, code, nowMs, lastAcceptedStep: null });
  if (step === null) return failed(state, purpose, 'totp', command);
  if (newRecoveryCodes === null) throw new Error('ConfirmEnrollment needs a prepared recovery code set');
  const data = {
    userId,
    at,
    authenticatorId: pending.authenticatorId,
    name: pending.name,
    secret: pending.secret,
    step,
    recoveryCodes: newRecoveryCodes,
  };
  return [
    state.enabled
      ? emit('AuthenticatorReplaced', data, command.metadata)
      : emit('TwoFactorEnabled', data, command.metadata),
  ];
}

function verifySignIn(command: VerifySignIn, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, proof } = command.data;
  const check = checkProof(state, proof, 'sign-in', command);
  if (!check.accepted) return check.events;
  return [
    ...check.events,
    emit(
      'SignInVerified',
      {
        userId,
        at: iso(nowMs),
        method: proof.method,
        step: check.proof.step,
        authenticatorId: check.proof.authenticatorId,
      },
      command.metadata,
    ),
  ];
}

/** A name no other authenticator of the user has, nor the one waiting for confirmation. */
function requireFreeName(state: TwoFactorState, name: string, except: string | null): void {
  const problem = authenticatorNameProblem(name);
  if (problem !== null) throw new DomainRejection('invalid-authenticator-name', `name ${problem}`);
  const taken =
    state.authenticators.some((a) => a.id !== except && sameAuthenticatorName(a.name, name)) ||
    (state.pending?.kind === 'addition' &&
      state.pending.authenticatorId !== except &&
      sameAuthenticatorName(state.pending.name, name));
  if (taken) {
    throw new DomainRejection('authenticator-name-taken', 'another authenticator of this user has this name');
  }
}

function requireRoomForOneMore(state: TwoFactorState): void {
  if (state.authenticators.length >= MAX_AUTHENTICATORS) {
    throw new DomainRejection(
      'too-many-authenticators',
      `a user may have at most ${MAX_AUTHENTICATORS} authenticators; remove one first`,
    );
  }
}

function confirmedAuthenticator(state: TwoFactorState, authenticatorId: string): Authenticator {
  const found = state.authenticators.find(({ id }) => id === authenticatorId);
  if (found === undefined) {
    throw new DomainRejection('authenticator-not-found', 'the user has no authenticator with this id');
  }
  return found;
}

/**
 * One more authenticator beside the enabled ones. What would refuse it (its name, the
 * limit) is checked before the proof, so a refused request spends no code; a pending one of
 * the user's is replaced, as a new enrollment start replaces the pending one.
 */
function addAuthenticator(command: AddAuthenticator, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, authenticatorId, name, newSecret, proof } = command.data;
  requireRoomForOneMore(state);
  requireFreeName(state, name, state.pending?.kind === 'addition' ? state.pending.authenticatorId : null);
  const check = checkProof(state, proof, 'add-authenticator', command);
  if (!check.accepted) return check.events;
  return [
    ...check.events,
    emit(
      'AuthenticatorAdded',
      {
        userId,
        at: iso(nowMs),
        authenticatorId,
        name,
        secret: newSecret,
        expiresAt: iso(nowMs + ENROLLMENT_TTL_MS),
        proof: check.proof,
      },
      command.metadata,
    ),
  ];
}

/** The added authenticator's first code: a code of the app, counted against its lockout. */
function confirmAuthenticator(
  command: ConfirmAuthenticator,
  state: TwoFactorState,
): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, authenticatorId, code, pendingSecretBase32 } = command.data;
  const { pending } = state;
  if (pending === null || pending.kind !== 'addition' || pending.authenticatorId !== authenticatorId) {
    throw new DomainRejection(
      'no-pending-enrollment',
      'no authenticator with this id waits for confirmation',
    );
  }
  if (nowMs >= pending.expiresAtMs) {
    throw new DomainRejection('enrollment-expired', 'adding the authenticator expired; start it again');
  }
  if (!confirmationIsChecked(state, nowMs)) return refused(state, 'add-authenticator', 'totp', command);
  const step =
    pendingSecretBase32 === null
      ? null
      : acceptedTotpStep({ secretBase32: pendingSecretBase32, code, nowMs, lastAcceptedStep: null });
  if (step === null) return failed(state, 'add-authenticator', 'totp', command);
  requireRoomForOneMore(state);
  return [
    emit(
      'AuthenticatorConfirmed',
      { userId, at: iso(nowMs), authenticatorId, name: pending.name, step },
      command.metadata,
    ),
  ];
}

/** A label, changed without proof; the same name again records nothing. */
function renameAuthenticator(command: RenameAuthenticator, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, authenticatorId, name } = command.data;
  const authenticator = confirmedAuthenticator(state, authenticatorId);
  if (authenticator.name === name) return [];
  requireFreeName(state, name, authenticatorId);
  return [
    emit(
      'AuthenticatorRenamed',
      { userId, at: iso(nowMs), authenticatorId, name, previousName: authenticator.name },
      command.metadata,
    ),
  ];
}

/**
 * Removes one authenticator, with proof. Removing the last one is disabling 2FA and follows
 * its rules: refused before any check while 2FA is required for all users.
 */
function removeAuthenticator(command: RemoveAuthenticator, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, authenticatorId, proof, requireTwoFactor } = command.data;
  const authenticator = confirmedAuthenticator(state, authenticatorId);
  const last = state.authenticators.length === 1;
  if (last && !disablingIsAllowed(requireTwoFactor)) {
    throw new DomainRejection(
      'two-factor-required',
      'this is the last authenticator, and the instance requires two-factor authentication for all users',
    );
  }
  const check = checkProof(state, proof, 'remove-authenticator', command);
  if (!check.accepted) return check.events;
  const at = iso(nowMs);
  const removed = emit(
    'AuthenticatorRemoved',
    { userId, at, authenticatorId, name: authenticator.name, proof: check.proof },
    command.metadata,
  );
  if (!last) return [...check.events, removed];
  const { method, step, authenticatorId: provenWith } = check.proof;
  return [
    ...check.events,
    removed,
    emit('TwoFactorDisabled', { userId, at, method, step, authenticatorId: provenWith }, command.metadata),
  ];
}

function regenerate(command: RegenerateRecoveryCodes, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, proof, newRecoveryCodes } = command.data;
  // Only a current authenticator code may regenerate; a recovery code must not be consumed here.
  if (proof.method !== 'totp') throw new Error('RegenerateRecoveryCodes takes a TOTP code only');
  const check = checkProof(state, proof, 'regenerate', command);
  if (!check.accepted) return check.events;
  const { step, authenticatorId } = check.proof;
  if (step === null || authenticatorId === null) return check.events;
  if (newRecoveryCodes === null)
    throw new Error('RegenerateRecoveryCodes needs a prepared recovery code set');
  return [
    emit(
      'CodesRegenerated',
      { userId, at: iso(nowMs), authenticatorId, step, recoveryCodes: newRecoveryCodes },
      command.metadata,
    ),
  ];
}

function disable(command: DisableTwoFactor, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, proof, requireTwoFactor } = command.data;
  if (!disablingIsAllowed(requireTwoFactor)) {
    throw new DomainRejection(
      'two-factor-required',
      'the instance requires two-factor authentication for all users',
    );
  }
  const check = checkProof(state, proof, 'disable', command);
  if (!check.accepted) return check.events;
  return [
    ...check.events,
    emit(
      'TwoFactorDisabled',
      {
        userId,
        at: iso(nowMs),
        method: proof.method,
        step: check.proof.step,
        authenticatorId: check.proof.authenticatorId,
      },
      command.metadata,
    ),
  ];
}

function reset(command: ResetTwoFactor, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, reason } = command.data;
  return [
    emit(
      'AdminReset',
      { userId, at: iso(nowMs), reason, previousStatus: statusName(state, nowMs) },
      command.metadata,
    ),
    ...deadlineAfterReset(command, state),
  ];
}

/**
 * Works in any state, like the reset, and again on an erased user: a retry after an erasure
 * that was cut off (key destroyed, event not yet recorded) must be able to finish it. The
 * event carries no end-user address or agent: those are personal data of the erased user.
 */
function erase(command: EraseUser, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, reason } = command.data;
  const { endUserIp: _ip, endUserAgent: _agent, ...metadata } = command.metadata;
  return [
    emit(
      'UserErased',
      { userId, at: iso(nowMs), reason, previousStatus: statusName(state, nowMs) },
      metadata,
    ),
  ];
}

/** Only secrets that are still in force are sealed again; nothing to do is no event. */
function reseal(command: ResealSecrets, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs } = command.data;
  const authenticators = command.data.authenticators.filter(({ authenticatorId }) =>
    state.authenticators.some(({ id }) => id === authenticatorId),
  );
  const pending = state.pending === null ? null : command.data.pending;
  if (authenticators.length === 0 && pending === null) return [];
  return [emit('SecretsResealed', { userId, at: iso(nowMs), authenticators, pending }, command.metadata)];
}

/** Clears both factors' lockouts, locked or not. */
function unlock(command: UnlockFactor, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs } = command.data;
  const locked = lockedFactors(state.lockouts, nowMs);
  return [
    emit(
      'LockoutCleared',
      { userId, at: iso(nowMs), wasLocked: locked.length > 0, lockedFactors: locked },
      command.metadata,
    ),
  ];
}

function countRefused(command: CountRefusedAttempts, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, factor, attempts, firstAtMs, lastAtMs, lockedUntil } = command.data;
  if (attempts < 1) return [];
  // A count that began before an erasure holds the erased user's addresses (counted by another
  // instance, or taken just before the erasure ran): the count is kept, the addresses and the
  // end user's id are not.
  const gatheredBeforeErasure = state.erasedAtMs !== null && firstAtMs <= state.erasedAtMs;
  const endUserIps = gatheredBeforeErasure ? [] : command.data.endUserIps;
  const metadata =
    gatheredBeforeErasure && command.metadata.actor.role === 'web'
      ? { ...command.metadata, actor: { ...command.metadata.actor, id: null } }
      : command.metadata;
  return [
    emit(
      'RefusedAttemptsCounted',
      {
        userId,
        at: iso(nowMs),
        factor,
        attempts,
        firstAt: iso(firstAtMs),
        lastAt: iso(lastAtMs),
        endUserIps,
        lockedUntil,
      },
      metadata,
    ),
  ];
}

export function decide(command: TwoFactorCommand, state: TwoFactorState): readonly TwoFactorEvent[] {
  switch (command.type) {
    case 'StartEnrollment':
      return startEnrollment(command, state);
    case 'ConfirmEnrollment':
      return confirmEnrollment(command, state);
    case 'VerifySignIn':
      return verifySignIn(command, state);
    case 'AddAuthenticator':
      return addAuthenticator(command, state);
    case 'ConfirmAuthenticator':
      return confirmAuthenticator(command, state);
    case 'RenameAuthenticator':
      return renameAuthenticator(command, state);
    case 'RemoveAuthenticator':
      return removeAuthenticator(command, state);
    case 'RegenerateRecoveryCodes':
      return regenerate(command, state);
    case 'DisableTwoFactor':
      return disable(command, state);
    case 'ResetTwoFactor':
      return reset(command, state);
    case 'UnlockFactor':
      return unlock(command, state);
    case 'EraseUser':
      return erase(command, state);
    case 'ResealSecrets':
      return reseal(command, state);
    case 'CountRefusedAttempts':
      return countRefused(command, state);
    case 'RecordEnrollmentDeadline':
      return decideEnrollmentDeadline(command, state);
  }
}
