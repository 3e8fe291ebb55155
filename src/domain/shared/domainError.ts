/** Why a command was refused without any event being recorded, in the contract's words. */
export type RejectionCode =
  | 'not-enabled'
  | 'already-enabled'
  | 'no-pending-enrollment'
  | 'enrollment-expired'
  | 'two-factor-required';

export class DomainRejection extends Error {
  override readonly name = 'DomainRejection';
  constructor(
    readonly code: RejectionCode,
    message: string,
  ) {
    super(message);
  }
}
