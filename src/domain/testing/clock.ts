import { timeStepAt } from '../twoFactor/totp.ts';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
/** One TOTP time step of the authenticator-app parameters. */
export const STEP_MS = 30 * SECOND;

/**
 * The fixed "now" of the specifications: 10 s into a 30-s TOTP step, so a test that moves a
 * few seconds either way never crosses a step boundary by accident.
 */
export const T0 = Date.parse('2030-01-01T00:00:10.000Z');

export const iso = (ms: number): string => new Date(ms).toISOString();

/** The authenticator-app time step at `ms`. */
export const stepAt = (ms: number): number => timeStepAt(ms);

/** A clock that only moves when a test moves it. */
export class SteppedClock {
  constructor(private current: number = T0) {}

  get nowMs(): number {
    return this.current;
  }

  advance(ms: number): number {
    this.current += ms;
    return this.current;
  }
}
