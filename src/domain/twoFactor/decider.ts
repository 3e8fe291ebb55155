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

/** Every user's 2FA account lives in the stream of this prefix and the user id. */
export const STREAM_PREFIX = 'two-factor-';

export const twoFactorStreamName = (userId: string): string => `${STREAM_PREFIX}${userId}`;

/** The user whose 2FA stream this is, or null for any other stream. */
export const userIdOfStream = (streamName: string): string | null =>
  streamName.startsWith(STREAM_PREFIX) ? streamName.slice(STREAM_PREFIX.length) : null;
