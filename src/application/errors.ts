import { DomainRejection, type RejectionCode, TooSoonRejection } from '../domain/shared/domainError.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import { type Factor, failuresBeforeNextLock } from '../domain/twoFactor/lockout.ts';
import { outcomeOf } from '../domain/twoFactor/outcome.ts';

/**
 * Why a use case did not succeed, in the contract's words. The HTTP layer maps each code to
 * a status once; the CLI prints it.
 */
export type UseCaseErrorCode = RejectionCode | 'invalid-code' | 'locked' | 'conflict';

/**
 * What a wrong code did to its factor's lockout, for a caller that tells the person how many
 * tries are left before a lock (or that this one started it), from the count the service keeps
 * rather than one the caller would have to keep and could get wrong.
 */
export type FailedAttempt = {
  readonly factor: Factor;
  /** failures of this factor in a row, this one included */
  readonly failuresInARow: number;
  /** further failures that lock the factor; 0 when this one locked it */
  readonly failuresBeforeLock: number;
  /** the lock those failures bring (or this one started) lasts until an administrator unlocks */
  readonly lockIsPermanent: boolean;
  /** when this failure locked the factor: until when (null: until an administrator unlocks) */
  readonly lockedUntil: string | null;
};

export class UseCaseError extends Error {
  override readonly name = 'UseCaseError';
  constructor(
    readonly code: UseCaseErrorCode,
    message: string,
    /**
     * for 'locked': when attempts are accepted again, null when only an administrator can
     * unlock; for 'rate-limited': when to try again
     */
    readonly lockedUntil: string | null = null,
    /** for 'invalid-code' of a checked code: what it did to the factor's lockout */
    readonly failedAttempt: FailedAttempt | null = null,
  ) {
    super(message);
  }
}

/** Says which factor is locked, and what still works: the other one. */
const LOCKED_MESSAGES: Record<Factor, { readonly forAWhile: string; readonly untilUnlocked: string }> = {
  app: {
    forAWhile:
      'too many failed attempts with authenticator codes: they are refused for a while; a recovery code still works',
    untilUnlocked:
      'too many failed attempts with authenticator codes: they are refused until an administrator unlocks them or a replacement authenticator is enrolled; a recovery code still works',
  },
  'recovery-codes': {
    forAWhile:
      'too many failed attempts with recovery codes: they are refused for a while; a code from the authenticator app still works',
    untilUnlocked:
      'too many failed attempts with recovery codes: they are refused until they are regenerated (with an authenticator code) or an administrator unlocks them; a code from the authenticator app still works',
  },
};

export const lockedError = (factor: Factor, lockedUntil: string | null) =>
  new UseCaseError(
    'locked',
    lockedUntil === null ? LOCKED_MESSAGES[factor].untilUnlocked : LOCKED_MESSAGES[factor].forAWhile,
    lockedUntil,
  );

/** The failure these events record, and the lock it started, if any. */
function failedAttemptOf(events: readonly TwoFactorEvent[]): FailedAttempt | null {
  let failuresInARow: number | null = null;
  let factor: Factor = 'app';
  let locked: { readonly until: string | null } | null = null;
  for (const event of events) {
    if (event.type === 'VerificationFailed') {
      failuresInARow = event.data.consecutiveFailures;
      factor = event.data.factor;
    } else if (event.type === 'FactorLocked') {
      locked = { until: event.data.lockedUntil };
    }
  }
  if (failuresInARow === null) return null;
  const next = failuresBeforeNextLock(failuresInARow);
  return {
    factor,
    failuresInARow,
    failuresBeforeLock: locked === null ? next.failures : 0,
    lockIsPermanent: locked === null ? next.permanent : locked.until === null,
    lockedUntil: locked?.until ?? null,
  };
}

/** A decision that recorded a refused code is the caller's error, once it is appended. */
export function throwUnlessAccepted(events: readonly TwoFactorEvent[]): void {
  const outcome = outcomeOf(events);
  if (outcome.kind === 'invalid-code') {
    throw new UseCaseError('invalid-code', 'the code is not valid', null, failedAttemptOf(events));
  }
  if (outcome.kind === 'locked') throw lockedError(outcome.factor, outcome.lockedUntil);
}

/** The domain's rejection as the use case's error, in the contract's words. */
export function rethrowRejection(error: unknown): never {
  if (error instanceof TooSoonRejection) {
    throw new UseCaseError(error.code, error.message, new Date(error.retryAtMs).toISOString());
  }
  if (error instanceof DomainRejection) throw new UseCaseError(error.code, error.message);
  throw error;
}
