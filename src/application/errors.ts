import { DomainRejection, type RejectionCode, TooSoonRejection } from '../domain/shared/domainError.ts';
import type { TwoFactorEvent } from '../domain/twoFactor/events.ts';
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

export const lockedError = (lockedUntil: string | null) =>
  new UseCaseError(
    'locked',
    lockedUntil === null
      ? 'too many failed attempts: use a recovery code, or ask an administrator to unlock two-factor authentication'
      : 'too many failed attempts: try again later, or use a recovery code',
    lockedUntil,
  );

/** A decision that recorded a refused code is the caller's error, once it is appended. */
export function throwUnlessAccepted(events: readonly TwoFactorEvent[]): void {
  const outcome = outcomeOf(events);
  if (outcome.kind === 'invalid-code') throw new UseCaseError('invalid-code', 'the code is not valid');
  if (outcome.kind === 'locked') throw lockedError(outcome.lockedUntil);
}

/** The domain's rejection as the use case's error, in the contract's words. */
export function rethrowRejection(error: unknown): never {
  if (error instanceof TooSoonRejection) {
    throw new UseCaseError(error.code, error.message, new Date(error.retryAtMs).toISOString());
  }
  if (error instanceof DomainRejection) throw new UseCaseError(error.code, error.message);
  throw error;
}
