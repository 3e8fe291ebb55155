import { DomainRejection, FactorLockedRejection, TooSoonRejection } from '../shared/domainError.ts';
import type { CommandMetadata } from '../shared/message.ts';
import { confirmationIsChecked, disablingIsAllowed, proofIsChecked } from './attemptChecks.ts';
import type {
  ConfirmEnrollment,
  CountRefusedAttempts,
  DisableTwoFactor,
  EraseUser,
  Proof,
  RegenerateRecoveryCodes,
  ResealSecrets,
  ResetTwoFactor,
  StartEnrollment,
  TwoFactorCommand,
  UnlockFactor,
  VerifySignIn,
} from './commands.ts';
import { deadlineAfterReset, decideEnrollmentDeadline } from './enrollmentDeadline.ts';
import type { ProofMethod, TwoFactorEvent, VerificationPurpose } from './events.ts';
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
import { recoveryCodesRemaining, statusName, type TwoFactorState } from './state.ts';
import { acceptedTotpStep, isLastAcceptedCode } from './totp.ts';

/*
 * The two-factor decider's `decide`: one small function per command, over the shared proof
 * check. About 380 lines kept in one file, as Emmett keeps a decider's decide: every rule of
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
  | { readonly accepted: true; readonly step: number | null; readonly events: readonly TwoFactorEvent[] }
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
    const step =
      proof.secretBase32 === null || state.authenticator === null
        ? null
        : acceptedTotpStep({
            secretBase32: proof.secretBase32,
            code: proof.code,
            nowMs,
            lastAcceptedStep: state.authenticator.lastAcceptedStep,
          });
    if (step !== null) return { accepted: true, step, events: [] };
    if (
      proof.secretBase32 !== null &&
      state.authenticator !== null &&
      isLastAcceptedCode({
        secretBase32: proof.secretBase32,
        code: proof.code,
        nowMs,
        lastAcceptedStep: state.authenticator.lastAcceptedStep,
      })
    ) {
      throw alreadyUsed();
    }
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
      return { accepted: true, step: null, events: [consumed] };
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

/** The code that just worked, sent again: told apart from a guess, and not counted as one. */
const alreadyUsed = () => new DomainRejection('code-already-used', 'this code has already been used');

function requireEnabled(state: TwoFactorState): void {
  if (!state.enabled) throw new DomainRejection('not-enabled', 'two-factor authentication is not enabled');
}

function startEnrollment(command: StartEnrollment, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, newSecret, proof } = command.data;
  const started = (proofRecord: { method: Proof['method']; step: number | null } | null) =>
    emit(
      'EnrollmentStarted',
      {
        userId,
        at: iso(nowMs),
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
  return [...check.events, started({ method: proof.method, step: check.step })];
}

function confirmEnrollment(command: ConfirmEnrollment, state: TwoFactorState): readonly TwoFactorEvent[] {
  const { userId, nowMs, code, pendingSecretBase32, newRecoveryCodes } = command.data;
  const { pending } = state;
  if (pending === null)
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
  const data = { userId, at, secret: pending.secret, step, recoveryCodes: newRecoveryCodes };
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
      { userId, at: iso(nowMs), method: proof.method, step: check.step },
      command.metadata,
    ),
  ];
}

function regenerate(command: RegenerateRecoveryCodes, state: TwoFactorState): readonly TwoFactorEvent[] {
  requireEnabled(state);
  const { userId, nowMs, proof, newRecoveryCodes } = command.data;
  // Only a current authenticator code may regenerate; a recovery code must not be consumed here.
  if (proof.method !== 'totp') throw new Error('RegenerateRecoveryCodes takes a TOTP code only');
  const check = checkProof(state, proof, 'regenerate', command);
  if (!check.accepted || check.step === null) return check.events;
  if (newRecoveryCodes === null)
    throw new Error('RegenerateRecoveryCodes needs a prepared recovery code set');
  return [
    emit(
      'CodesRegenerated',
      { userId, at: iso(nowMs), step: check.step, recoveryCodes: newRecoveryCodes },
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
      { userId, at: iso(nowMs), method: proof.method, step: check.step },
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
  const authenticator = state.authenticator === null ? null : command.data.authenticator;
  const pending = state.pending === null ? null : command.data.pending;
  if (authenticator === null && pending === null) return [];
  return [emit('SecretsResealed', { userId, at: iso(nowMs), authenticator, pending }, command.metadata)];
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
