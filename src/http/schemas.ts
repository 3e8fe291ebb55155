import { z } from 'zod';
import { normaliseReason, REASON_MAX_LENGTH, reasonProblem } from '../domain/shared/reason.ts';
import {
  AUTHENTICATOR_ID_PATTERN,
  AUTHENTICATOR_NAME_MAX_LENGTH,
  authenticatorNameProblem,
  normaliseAuthenticatorName,
} from '../domain/twoFactor/authenticatorNames.ts';
import { GRACE_PERIOD_HOURS_MAX } from '../domain/twoFactor/enrollmentDeadline.ts';
import { TWO_FACTOR_STATUS_NAMES } from '../domain/twoFactor/state.ts';
import { USER_ID_PATTERN, USER_ID_RULE } from '../domain/twoFactor/userId.ts';
import { PROBLEMS } from './problems.ts';

export const userIdSchema = z.string().regex(USER_ID_PATTERN, USER_ID_RULE).describe('Opaque user id');

export const userParams = z.object({ userId: userIdSchema });

/**
 * Shown in authenticator apps and encoded into the otpauth URI: well-formed Unicode (a lone
 * surrogate cannot be URI-encoded) and no control characters.
 */
export const ACCOUNT_NAME_MAX_BYTES = 254;

export const accountNameSchema = z
  .string()
  .min(1)
  // Counted in UTF-8 bytes, as the URI carries it (percent-encoded) and the QR code must hold it:
  // 254 characters of a four-byte script would make a URI no QR code can hold.
  .refine(
    (value) => Buffer.byteLength(value, 'utf8') <= ACCOUNT_NAME_MAX_BYTES,
    `must be at most ${ACCOUNT_NAME_MAX_BYTES} bytes in UTF-8`,
  )
  .refine((value) => value.isWellFormed(), 'must be well-formed Unicode text')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  .refine((value) => !/[\x00-\x1f\x7f]/.test(value), 'must not contain control characters')
  .describe('Shown in the authenticator app, e.g. an e-mail');

/** Why an administrator acted: the domain's rule (`reasonProblem`), checked once. */
export const reasonSchema = z
  .string()
  .transform(normaliseReason)
  .superRefine((value, context) => {
    const problem = reasonProblem(value);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem });
  })
  // The rule is the domain's function; the lengths are declared for the OpenAPI document.
  .meta({ minLength: 1, maxLength: REASON_MAX_LENGTH })
  .describe('Why, for the audit');

/** What a user calls one of their authenticators: the domain's rule, checked once. */
export const authenticatorNameSchema = z
  .string()
  .transform(normaliseAuthenticatorName)
  .superRefine((value, context) => {
    const problem = authenticatorNameProblem(value);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem });
  })
  .meta({ minLength: 1, maxLength: AUTHENTICATOR_NAME_MAX_LENGTH })
  .describe('What the user calls this authenticator, e.g. "Work phone"; unique per user');

export const authenticatorParams = z.object({
  userId: userIdSchema,
  authenticatorId: z
    .string()
    .regex(AUTHENTICATOR_ID_PATTERN, 'must be an authenticator id such as auth_1f3a…')
    .describe('An authenticator id, as the list gives it'),
});

/** A new authenticator's secret, as an enrollment or an addition hands it out: once. */
export const newSecretDocument = z.object({
  secret: z.string().describe('Base32 secret, for manual entry; shown once'),
  otpauthUri: z.string(),
  qrCode: z.string().describe('PNG data URL of otpauthUri'),
  expiresAt: z.string(),
});

export const authenticatorDocument = z.object({
  id: z.string(),
  name: z.string(),
  addedAt: z.string(),
  lastUsedAt: z
    .string()
    .nullable()
    .describe('When a code of it last proved something; null: not since added'),
});

export const totpCodeSchema = z
  .string()
  .regex(/^\d{6}$/, 'must be the six digits the authenticator app shows')
  .describe('Current code from the authenticator app');

export const recoveryCodeSchema = z
  .string()
  .min(1)
  .max(64, 'must be at most 64 characters')
  .describe('One of the ten recovery codes, e.g. abcde-fghij (case, spaces and dashes ignored)');

/** Exactly one of a TOTP code or a recovery code. */
export const proofFields = {
  code: totpCodeSchema.optional(),
  recoveryCode: recoveryCodeSchema.optional(),
};

export const exactlyOneProof = (body: { code?: string | undefined; recoveryCode?: string | undefined }) =>
  (body.code === undefined) !== (body.recoveryCode === undefined);

export const EXACTLY_ONE_PROOF = { message: 'send exactly one of code or recoveryCode', path: ['code'] };

export const proofBody = z.strictObject(proofFields).refine(exactlyOneProof, EXACTLY_ONE_PROOF);

export const statusDocument = z.object({
  userId: z.string(),
  status: z.enum(TWO_FACTOR_STATUS_NAMES),
  enabledAt: z.string().nullable(),
  recoveryCodesRemaining: z.number().int(),
  authenticators: z
    .number()
    .int()
    .describe('How many authenticator apps sign the user in (0 while 2FA is off)'),
  locked: z.boolean().describe("The authenticator app's lockout: TOTP codes are refused unchecked"),
  lockedUntil: z
    .string()
    .nullable()
    .describe(
      'When the app’s lock ends; null with `locked: true`: until an administrator unlocks (or a replacement is enrolled)',
    ),
  recoveryCodesLocked: z
    .boolean()
    .describe("The recovery codes' lockout: recovery codes are refused unchecked"),
  recoveryCodesLockedUntil: z
    .string()
    .nullable()
    .describe(
      'When the recovery codes’ lock ends; null with `recoveryCodesLocked: true`: until an administrator unlocks or the codes are regenerated',
    ),
  required: z.boolean(),
  enrollmentRequired: z
    .boolean()
    .describe(
      'The policy requires 2FA and the user has none: lead the user into setup at sign-in — at once when enrollBy is null or past, else the user may defer until enrollBy',
    ),
  enrollBy: z
    .string()
    .nullable()
    .describe(
      'While enrollmentRequired: until when the user may defer setting up 2FA (ISO time; their first sight while required plus the grace period, recomputed when the grace changes); otherwise null',
    ),
  canDefer: z
    .boolean()
    .describe(
      'While enrollmentRequired: the user may still defer setting up 2FA (enrollBy is ahead, by the service’s clock); false once setup is due',
    ),
  canDisable: z.boolean(),
});

export const problemDocument = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...(keyof typeof PROBLEMS)[]]),
  })
  .describe('RFC 9457 problem details');

/** The problem responses a route may give, documented in the OpenAPI document. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, problemDocument]));

export const gracePeriodHoursSchema = z
  .number()
  .int('must be a whole number of hours')
  .min(0, 'must be at least 0')
  .max(GRACE_PERIOD_HOURS_MAX, `must be at most ${GRACE_PERIOD_HOURS_MAX} (a year)`)
  .describe(
    `How long a user without 2FA may defer setting it up, in hours from when the service first sees them while it is required (0–${GRACE_PERIOD_HOURS_MAX}; 0: at the next sign-in)`,
  );

export const policyDocument = z.object({
  requireTwoFactor: z.boolean(),
  gracePeriodHours: gracePeriodHoursSchema,
  requiredSince: z
    .string()
    .nullable()
    .describe(
      'When the current period of the requirement began (turning it off ends it; on again starts a new one, in which every user is first seen afresh); null while not required',
    ),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
