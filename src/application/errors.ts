import { DomainRejection, type RejectionCode, TooSoonRejection } from '../domain/shared/domainError.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
import type { Factor } from '../domain/twoFactor/lockout.ts';
import { outcomeOf } from '../domain/twoFactor/outcome.ts';

/**
 * Why a use case did not succeed, in the contract's words. The HTTP layer maps each code to
 * a status once; the CLI prints it.
 */
export type UseCaseErrorCode = RejectionCode | 'invalid-code' | 'locked' | 'conflict';

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

/** A decision that recorded a refused code is the caller's error, once it is appended. */
export function throwUnlessAccepted(events: readonly TwoFactorEvent[]): void {
  const outcome = outcomeOf(events);
  if (outcome.kind === 'invalid-code') throw new UseCaseError('invalid-code', 'the code is not valid');
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
