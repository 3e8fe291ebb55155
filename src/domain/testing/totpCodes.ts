import { createHash } from 'node:crypto';
import { Secret } from 'otpauth';
import { timeStepAt, totpCodeForStep } from '../twoFactor/totp.ts';

/** A 160-bit base32 secret derived from a label, so every test run sees the same one. */
export const secretFor = (label: string): string =>
  Secret.fromHex(createHash('sha1').update(label).digest('hex')).base32;

/** The secret of the user's first authenticator. */
export const SECRET_A = secretFor('authenticator A');
/** The secret of a replacement authenticator (a new phone). */
export const SECRET_B = secretFor('authenticator B');
/** A third secret, for a second replacement or a re-enrollment. */
export const SECRET_C = secretFor('authenticator C');

/** The code an authenticator app shows at `nowMs`, `stepOffset` steps away (clock drift). */
export const codeAt = (secretBase32: string, nowMs: number, stepOffset = 0): string =>
  totpCodeForStep(secretBase32, timeStepAt(nowMs) + stepOffset);

export const codeForStep = (secretBase32: string, step: number): string =>
  totpCodeForStep(secretBase32, step);

/**
 * A six-digit code that no step within ±2 of `nowMs` produces, of any of the secrets:
 * certainly wrong, whichever of a user's authenticators it is tried against.
 */
export function wrongCodeAt(secrets: string | readonly string[], nowMs: number): string {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  const near = new Set(
    all.flatMap((secretBase32) => [-2, -1, 0, 1, 2].map((offset) => codeAt(secretBase32, nowMs, offset))),
  );
  for (let candidate = 0; ; candidate++) {
    const code = String(candidate).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}
