import { HOTP, Secret } from 'otpauth';
import { constantTimeEqual } from '../shared/constantTime.ts';

/** What every authenticator app reads (RFC 6238 defaults, Google Authenticator's only mode). */
export type TotpParameters = {
  readonly algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  readonly digits: number;
  readonly periodSeconds: number;
};

export const AUTHENTICATOR_APP_TOTP: TotpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 };

/** Accepted clock drift between server and authenticator, in time steps either side. */
export const TOTP_WINDOW = 1;

/** 160-bit secrets, as RFC 4226 recommends. */
export const TOTP_SECRET_BYTES = 20;

export function timeStepAt(nowMs: number, parameters: TotpParameters = AUTHENTICATOR_APP_TOTP): number {
  return Math.floor(nowMs / 1000 / parameters.periodSeconds);
}

/** The code an authenticator shows for a time step (HOTP with the step as counter). */
export function totpCodeForStep(
  secretBase32: string,
  step: number,
  parameters: TotpParameters = AUTHENTICATOR_APP_TOTP,
): string {
  return HOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: parameters.algorithm,
    digits: parameters.digits,
    counter: step,
  });
}

/**
 * The time step at which `code` is accepted, or null. A step is a candidate within
 * ±TOTP_WINDOW of now and only when later than `lastAcceptedStep`, so no code works twice
 * and no code older than the last accepted one works at all. Every candidate is compared,
 * without an early exit, in constant time.
 */
export function acceptedTotpStep(input: {
  readonly secretBase32: string;
  readonly code: string;
  readonly nowMs: number;
  readonly lastAcceptedStep: number | null;
  readonly parameters?: TotpParameters;
}): number | null {
  const parameters = input.parameters ?? AUTHENTICATOR_APP_TOTP;
  const current = timeStepAt(input.nowMs, parameters);
  let accepted: number | null = null;
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step++) {
    const matches = constantTimeEqual(totpCodeForStep(input.secretBase32, step, parameters), input.code);
    const fresh = input.lastAcceptedStep === null || step > input.lastAcceptedStep;
    if (matches && fresh && accepted === null) accepted = step;
  }
  return accepted;
}

/**
 * Whether `code` is the very code last accepted — a double submit, or a second tab — while
 * that step is still within the window. Answered apart from a wrong code: it is no guess.
 */
export function isLastAcceptedCode(input: {
  readonly secretBase32: string;
  readonly code: string;
  readonly nowMs: number;
  readonly lastAcceptedStep: number;
  readonly parameters?: TotpParameters;
}): boolean {
  const parameters = input.parameters ?? AUTHENTICATOR_APP_TOTP;
  const current = timeStepAt(input.nowMs, parameters);
  if (Math.abs(input.lastAcceptedStep - current) > TOTP_WINDOW) return false;
  return constantTimeEqual(
    totpCodeForStep(input.secretBase32, input.lastAcceptedStep, parameters),
    input.code,
  );
}
