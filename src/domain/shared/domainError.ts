/** Why a command was refused without any event being recorded, in the contract's words. */
export type RejectionCode =
  | 'not-enabled'
  | 'already-enabled'
  | 'no-pending-enrollment'
  | 'enrollment-expired'
  | 'two-factor-required'
  /** the code last accepted, presented again (a double submit): not a failure, not recorded */
  | 'code-already-used'
  /** a locked factor refused an attempt whose like was already recorded during this lock */
  | 'locked'
  /** too many enrollments started for one user in a while */
  | 'rate-limited'
  /** no confirmed authenticator of the user has this id */
  | 'authenticator-not-found'
  /** another of the user's authenticators (or the one being added) has this name */
  | 'authenticator-name-taken'
  /** the user has as many authenticators as one may have */
  | 'too-many-authenticators'
  /** a name that breaks the rule for text in events (checked at the edge too) */
  | 'invalid-authenticator-name';

export class DomainRejection extends Error {
  override readonly name = 'DomainRejection';
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A locked factor refusing an attempt once its lock already has a recorded refusal: nothing
 * more is recorded for it (the handler counts it), so a flood cannot grow the log.
 */
export class FactorLockedRejection extends DomainRejection {
  constructor(
    /** the locked factor: `app` (TOTP codes) or `recovery-codes` */
    readonly factor: 'app' | 'recovery-codes',
    /** when attempts are checked again; null when only an administrator can unlock */
    readonly lockedUntil: string | null,
  ) {
    super('locked', 'too many failed attempts: the factor is locked');
  }
}

/** Refused for now; tried again from `retryAtMs` on, it may be accepted. */
export class TooSoonRejection extends DomainRejection {
  constructor(
    message: string,
    readonly retryAtMs: number,
  ) {
    super('rate-limited', message);
  }
}
