import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  AUTHENTICATOR_APP_TOTP,
  acceptedTotpStep,
  TOTP_WINDOW,
  type TotpParameters,
  timeStepAt,
  totpCodeForStep,
} from './totp.ts';

const keys = {
  SHA1: Secret.fromLatin1('12345678901234567890').base32,
  SHA256: Secret.fromLatin1('12345678901234567890123456789012').base32,
  SHA512: Secret.fromLatin1('1234567890123456789012345678901234567890123456789012345678901234').base32,
} as const;

const rfc6238 = (algorithm: TotpParameters['algorithm']): TotpParameters => ({
  algorithm,
  digits: 8,
  periodSeconds: 30,
});

/** RFC 6238 Appendix B: time (s), time step, and the 8-digit TOTP for each algorithm. */
const appendixB: readonly [number, number, string, string, string][] = [
  [59, 0x1, '94287082', '46119246', '90693936'],
  [1111111109, 0x23523ec, '07081804', '68084774', '25091201'],
  [1111111111, 0x23523ed, '14050471', '67062674', '99943326'],
  [1234567890, 0x273ef07, '89005924', '91819424', '93441116'],
  [2000000000, 0x3f940aa, '69279037', '90698825', '38618901'],
  [20000000000, 0x27bc86aa, '65353130', '77737706', '47863826'],
];

const vectors = appendixB.flatMap(([seconds, step, sha1, sha256, sha512]) =>
  (
    [
      ['SHA1', sha1],
      ['SHA256', sha256],
      ['SHA512', sha512],
    ] as const
  ).map(([algorithm, code]) => ({ seconds, step, algorithm, code })),
);

describe('TOTP: RFC 6238 Appendix B test vectors', () => {
  it.each(appendixB.map(([seconds, step]) => [seconds, step]))(
    'at %i s the time step is %i',
    (seconds, step) => {
      expect(timeStepAt(seconds * 1000, rfc6238('SHA1'))).toBe(step);
    },
  );

  it.each(vectors)(
    '$algorithm at $seconds s: totpCodeForStep gives $code',
    ({ seconds, algorithm, code }) => {
      const parameters = rfc6238(algorithm);
      expect(totpCodeForStep(keys[algorithm], timeStepAt(seconds * 1000, parameters), parameters)).toBe(code);
    },
  );

  it.each(vectors)(
    '$algorithm at $seconds s: acceptedTotpStep accepts $code at step $step',
    ({ seconds, step, algorithm, code }) => {
      const parameters = rfc6238(algorithm);
      const secretBase32 = keys[algorithm];
      expect(
        acceptedTotpStep({ secretBase32, code, nowMs: seconds * 1000, lastAcceptedStep: null, parameters }),
      ).toBe(step);
      expect(
        acceptedTotpStep({ secretBase32, code, nowMs: seconds * 1000, lastAcceptedStep: step, parameters }),
      ).toBeNull();
    },
  );
});

describe('HOTP: RFC 4226 Appendix D test values (the TOTP step is the HOTP counter)', () => {
  const hotp = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];
  const sixDigitSha1: TotpParameters = { algorithm: 'SHA1', digits: 6, periodSeconds: 30 };

  it.each(hotp.map((code, counter) => [counter, code]))('counter %i gives %s', (counter, code) => {
    expect(totpCodeForStep(keys.SHA1, counter as number, sixDigitSha1)).toBe(code);
  });
});

describe('acceptedTotpStep with the authenticator-app parameters', () => {
  const secretBase32 = keys.SHA1;
  const nowMs = 1_700_000_010_000;
  const now = timeStepAt(nowMs);
  const codeOf = (step: number) => totpCodeForStep(secretBase32, step);

  it('are what every authenticator app reads: SHA-1, 6 digits, 30 s, ±1 step', () => {
    expect(AUTHENTICATOR_APP_TOTP).toEqual({ algorithm: 'SHA1', digits: 6, periodSeconds: 30 });
    expect(TOTP_WINDOW).toBe(1);
  });

  it.each([-1, 0, 1])('accepts the code of step now%+i', (offset) => {
    expect(
      acceptedTotpStep({ secretBase32, code: codeOf(now + offset), nowMs, lastAcceptedStep: null }),
    ).toBe(now + offset);
  });

  it.each([-3, -2, 2, 3])('refuses the code of step now%+i', (offset) => {
    expect(
      acceptedTotpStep({ secretBase32, code: codeOf(now + offset), nowMs, lastAcceptedStep: null }),
    ).toBeNull();
  });

  it('refuses the code of the last accepted step and of earlier ones', () => {
    expect(acceptedTotpStep({ secretBase32, code: codeOf(now), nowMs, lastAcceptedStep: now })).toBeNull();
    expect(
      acceptedTotpStep({ secretBase32, code: codeOf(now - 1), nowMs, lastAcceptedStep: now }),
    ).toBeNull();
    expect(
      acceptedTotpStep({ secretBase32, code: codeOf(now), nowMs, lastAcceptedStep: now + 1 }),
    ).toBeNull();
  });

  it('accepts a code later than the last accepted step', () => {
    expect(acceptedTotpStep({ secretBase32, code: codeOf(now + 1), nowMs, lastAcceptedStep: now })).toBe(
      now + 1,
    );
  });

  it.each(['', '12345', '1234567', 'abcdef'])('refuses a code of the wrong shape: "%s"', (code) => {
    expect(acceptedTotpStep({ secretBase32, code, nowMs, lastAcceptedStep: null })).toBeNull();
  });

  it('refuses the right code of another secret', () => {
    const other = Secret.fromLatin1('another-secret-20byt').base32;
    expect(
      acceptedTotpStep({ secretBase32, code: totpCodeForStep(other, now), nowMs, lastAcceptedStep: null }),
    ).toBeNull();
  });
});
