import type { TwoFactorEvent } from './events.ts';
import type { Factor } from './lockout.ts';

/**
 * What a decision means for the caller. Failed and refused attempts are recorded as events
 * (the security team must see them) and still answer as failures.
 */
export type Outcome =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'invalid-code' }
  | { readonly kind: 'locked'; readonly factor: Factor; readonly lockedUntil: string | null };

export function outcomeOf(events: readonly TwoFactorEvent[]): Outcome {
  for (const event of events) {
    switch (event.type) {
      case 'VerificationRefused':
        return { kind: 'locked', factor: event.data.factor, lockedUntil: event.data.lockedUntil };
      case 'VerificationFailed':
      case 'EnrollmentConfirmationFailed':
        return { kind: 'invalid-code' };
    }
  }
  return { kind: 'accepted' };
}
