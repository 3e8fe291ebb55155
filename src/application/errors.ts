import type { RejectionCode } from '../domain/shared/domainError.ts';

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
