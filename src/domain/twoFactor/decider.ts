import type { Decider } from '../shared/message.ts';
import type { TwoFactorCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { TwoFactorEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type TwoFactorState } from './state.ts';

/** The user's 2FA account, stream `two-factor-{userId}`. */
export const twoFactorDecider: Decider<TwoFactorState, TwoFactorCommand, TwoFactorEvent> = {
  initialState,
  evolve,
  decide,
};

export const twoFactorStreamName = (userId: string): string => `two-factor-${userId}`;
