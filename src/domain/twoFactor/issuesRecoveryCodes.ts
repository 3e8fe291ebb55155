import { DomainRejection } from '../shared/domainError.ts';
import type { ConfirmEnrollment, RegenerateRecoveryCodes } from './commands.ts';
import { decide } from './decide.ts';
import type { RecoveryCodeSet } from './recoveryCodes.ts';
import type { TwoFactorState } from './state.ts';

/** Stands in for a set while probing; never leaves this module. */
const PROBE: RecoveryCodeSet = {
  salt: '',
  parameters: { algorithm: 'argon2id', memoryCost: 0, timeCost: 0, parallelism: 0, outputLength: 0 },
  digests: [],
};

/**
 * Whether deciding this command in this state would issue a new recovery code set. Hashing
 * ten codes is the costliest thing the service does, so the handler prepares a set only when
 * it will be used: a wrong code, a locked factor or a refusal costs no argon2 work. It asks
 * `decide` itself, so the answer cannot drift from the rules.
 */
export function issuesRecoveryCodes(
  command: ConfirmEnrollment | RegenerateRecoveryCodes,
  state: TwoFactorState,
): boolean {
  const probe = { ...command, data: { ...command.data, newRecoveryCodes: PROBE } } as typeof command;
  try {
    return decide(probe, state).some(
      (event) =>
        event.type === 'TwoFactorEnabled' ||
        event.type === 'AuthenticatorReplaced' ||
        event.type === 'CodesRegenerated',
    );
  } catch (error) {
    if (error instanceof DomainRejection) return false;
    throw error;
  }
}
