/**
 * Prints the code an authenticator app would show now for a base32 secret — for trying the
 * service from a terminal: `npx tsx scripts/totp-code.ts <SECRET>`.
 */
import { Secret, TOTP } from 'otpauth';

const secret = process.argv[2];
if (!secret || !/^[A-Z2-7]+=*$/i.test(secret)) {
  process.stderr.write('usage: npx tsx scripts/totp-code.ts <BASE32 SECRET>\n');
  process.exit(2);
}
process.stdout.write(`${TOTP.generate({ secret: Secret.fromBase32(secret.toUpperCase()) })}\n`);
