/**
 * Every error the service answers with: a stable `code` (the contract's), an HTTP status
 * and a title. Mapped once, in `errorHandler.ts`; routes only throw.
 */
export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is malformed' },
  unauthenticated: { status: 401, title: 'A valid API key is required' },
  forbidden: { status: 403, title: 'The API key does not grant this role' },
  'two-factor-required': { status: 403, title: 'Two-factor authentication is required for all users' },
  'not-found': { status: 404, title: 'No such resource' },
  'authenticator-not-found': { status: 404, title: 'The user has no such authenticator' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  /** the web UI, asked for under another host or scheme than its PUBLIC_URL */
  'misdirected-request': { status: 421, title: 'This address does not serve the web UI' },
  'not-enabled': { status: 409, title: 'Two-factor authentication is not enabled' },
  'already-enabled': { status: 409, title: 'Two-factor authentication is already enabled' },
  'no-pending-enrollment': { status: 409, title: 'There is no enrollment to confirm' },
  'enrollment-expired': { status: 409, title: 'The enrollment expired' },
  'authenticator-name-taken': { status: 409, title: 'Another authenticator of the user has this name' },
  'too-many-authenticators': { status: 409, title: 'The user has as many authenticators as one may have' },
  conflict: { status: 409, title: 'Too many concurrent changes' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'invalid-code': { status: 422, title: 'The code is not valid' },
  'code-already-used': { status: 422, title: 'The code was already used' },
  /** 429 while temporarily locked; `lockedUntilAdmin` answers 423 instead */
  locked: { status: 429, title: 'Too many failed attempts' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'The service is unavailable for now' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Status for a factor locked until an administrator unlocks it. */
export const LOCKED_UNTIL_ADMIN_STATUS = 423;

export type ProblemDocument = {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ProblemCode;
};

export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: {
      readonly status?: number;
      readonly headers?: Record<string, string>;
      /** what is wrong, where the code's general title would mislead (the web UI has no API key) */
      readonly title?: string;
    } = {},
  ) {
    super(detail);
  }

  get status(): number {
    return this.options.status ?? PROBLEMS[this.code].status;
  }

  toDocument(): ProblemDocument {
    return {
      type: `urn:two-factor:problem:${this.code}`,
      title: this.options.title ?? PROBLEMS[this.code].title,
      status: this.status,
      detail: this.detail,
      code: this.code,
    };
  }
}
