import { Secret, TOTP } from 'otpauth';
import { AUTHENTICATOR_APP_TOTP } from '../domain/twoFactor/totp.ts';

/**
 * The Key Uri Format that authenticator apps read: label `issuer:account`, the `issuer`
 * parameter repeated for apps that read only one of them, base32 secret without padding.
 */
export function enrollmentUri(input: { issuer: string; accountName: string; secretBase32: string }): string {
  return new TOTP({
    issuer: input.issuer,
    label: input.accountName,
    issuerInLabel: true,
    secret: Secret.fromBase32(input.secretBase32),
    algorithm: AUTHENTICATOR_APP_TOTP.algorithm,
    digits: AUTHENTICATOR_APP_TOTP.digits,
    period: AUTHENTICATOR_APP_TOTP.periodSeconds,
  }).toString();
}
