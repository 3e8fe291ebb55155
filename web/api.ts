/** What the service's thin UI layer says about this browser's session. */
export type SessionView = {
  readonly stage: 'anonymous' | 'second-step' | 'signed-in';
  readonly userId: string | null;
  /** may use the admin page now (an administrator whose second step was passed here) */
  readonly admin: boolean;
  /** must set up two-factor authentication before anything else, and reaches nothing else until then */
  readonly mustEnroll: boolean;
  /** why: an administrator without it, or 2FA is required for all users and the deadline has come */
  readonly mustEnrollBecause: 'administrator' | 'policy' | null;
  /** 2FA is required and may still be put off (not yet in this session): until when, and seconds left */
  readonly setupOffer: { readonly enrollBy: string; readonly secondsLeft: number } | null;
  readonly csrfToken: string;
  readonly productName: string;
  /** the first step: the demo form, or the sign-in proxy in front of this page */
  readonly firstStep: 'demo' | 'trusted-header';
};

export type TwoFactorStatus = {
  readonly userId: string;
  readonly status: 'disabled' | 'pending' | 'enabled';
  readonly enabledAt: string | null;
  readonly recoveryCodesRemaining: number;
  /** the authenticator app's lockout */
  readonly locked: boolean;
  readonly lockedUntil: string | null;
  /** how long the app's lock lasts, by the service's clock; null when none or until an admin unlocks */
  readonly lockedForSeconds: number | null;
  /** the recovery codes' lockout: until when (null with `recoveryCodesLocked`: until regenerated or unlocked) */
  readonly recoveryCodesLocked: boolean;
  readonly recoveryCodesLockedUntil: string | null;
  /** how long the recovery codes' lock lasts, by the service's clock */
  readonly recoveryCodesLockedForSeconds: number | null;
  readonly required: boolean;
  /** 2FA is required for all users and this one has none */
  readonly enrollmentRequired: boolean;
  readonly enrollBy: string | null;
  /** the setup may still be put off (until enrollBy) */
  readonly canDefer: boolean;
  /** while it may: seconds until enrollBy, by the service's clock */
  readonly enrollInSeconds: number | null;
  readonly canDisable: boolean;
  /** how many authenticator apps are confirmed (0 while 2FA is off) */
  readonly authenticators: number;
};

/** One of the user's confirmed authenticator apps. */
export type Authenticator = {
  readonly id: string;
  readonly name: string;
  readonly addedAt: string;
  /** when a code of this app last passed; null: never since it was added */
  readonly lastUsedAt: string | null;
};

/** An authenticator app added, pending until a code of it confirms it. */
export type AddedAuthenticator = Enrollment & {
  readonly authenticatorId: string;
  readonly name: string;
};

export type Enrollment = {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly qrCode: string;
  readonly expiresAt: string | null;
};

export type Policy = {
  readonly requireTwoFactor: boolean;
  /** how long a user without 2FA may put setting it up off, from when first seen (0: next sign-in) */
  readonly gracePeriodHours: number;
  readonly requiredSince: string | null;
  readonly updatedAt: string | null;
  readonly updatedBy: string | null;
};

/** "Required: enrolledUsers of seenUsers seen users enrolled; pastDeadline past their deadline". */
export type UsersSummary = {
  readonly requireTwoFactor: boolean;
  readonly gracePeriodHours: number;
  readonly seenUsers: number;
  readonly enrolledUsers: number;
  readonly pastDeadline: number;
  /** the service's time the deadlines were compared with */
  readonly asOf: string;
};

export type UserListFilter = 'enabled' | 'disabled' | 'pending' | 'required';

export type UserListItem = {
  readonly userId: string;
  readonly status: 'disabled' | 'pending' | 'enabled';
  readonly enabledAt: string | null;
  readonly recoveryCodesRemaining: number;
  readonly locked: boolean;
  readonly recoveryCodesLocked: boolean;
  /** while 2FA is required, a user seen without it: their deadline */
  readonly enrollBy: string | null;
};

/** What a wrong code did: tries left before its kind of code locks, or the lock it started. */
export type FailedAttempt = {
  readonly factor: 'app' | 'recovery-codes';
  /** 0: this one locked it */
  readonly attemptsLeft: number;
  /** that lock lasts until an administrator unlocks (or the codes are regenerated) */
  readonly lockIsPermanent: boolean;
  /** when this one locked it for a while: for how long, by the service's clock */
  readonly lockedForSeconds: number | null;
};

/** A code as the person typed it: from the authenticator app, or a recovery code. */
export type Proof = { readonly code: string } | { readonly recoveryCode: string };

/**
 * Why a request failed: the service's problem details (its stable `code` decides the message
 * shown), or `network` when the service could not be reached at all.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly detail: string,
    /** from Retry-After, in seconds, when the service said when to try again */
    readonly retryAfterSeconds: number | null,
    /** for a wrong code: what it did to the lockout of its kind of code */
    readonly failedAttempt: FailedAttempt | null = null,
  ) {
    super(detail);
  }
}

let csrfToken = '';
let onSessionEnded: () => void = () => {};

/** The session's CSRF token goes with every change; a new session brings a new one. */
export function useSession(session: SessionView): SessionView {
  csrfToken = session.csrfToken;
  return session;
}

/** Called when the service says the session is gone (expired, signed out elsewhere, restarted). */
export function whenSessionEnds(callback: () => void): void {
  onSessionEnded = callback;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError('network', 0, 'the service could not be reached', null);
  }
  const text = await response.text();
  const json = text.length > 0 ? (JSON.parse(text) as unknown) : null;
  if (response.ok) return json as T;
  const problem = (json ?? {}) as {
    code?: string;
    detail?: string;
    title?: string;
    failedAttempt?: FailedAttempt;
  };
  const retryAfter = Number.parseInt(response.headers.get('retry-after') ?? '', 10);
  const error = new ApiError(
    problem.code ?? 'internal',
    response.status,
    problem.detail ?? problem.title ?? response.statusText,
    Number.isFinite(retryAfter) ? retryAfter : null,
    problem.failedAttempt ?? null,
  );
  if (error.code === 'unauthenticated' && path !== '/ui/api/session') onSessionEnded();
  throw error;
}

const authenticatorPath = (authenticatorId: string) =>
  `/ui/api/account/two-factor/authenticators/${encodeURIComponent(authenticatorId)}`;

export const api = {
  session: () => request<SessionView>('GET', '/ui/api/session').then(useSession),
  /** the demo form's user id; behind a sign-in proxy, none: the proxy says who signs in */
  signIn: (userId?: string) =>
    request<SessionView>('POST', '/ui/api/session', userId === undefined ? {} : { userId }).then(useSession),
  verify: async (proof: Proof) => {
    const answer = await request<{ session: SessionView; recoveryCodesRemaining: number; method: string }>(
      'POST',
      '/ui/api/session/verify',
      proof,
    );
    useSession(answer.session);
    return answer;
  },
  signOut: () => request<SessionView>('POST', '/ui/api/session/sign-out', {}).then(useSession),
  /** "Remind me later": not asked again in this session (the answer may say the setup is due now) */
  remindLater: () => request<SessionView>('POST', '/ui/api/session/remind-later', {}).then(useSession),

  status: () => request<TwoFactorStatus>('GET', '/ui/api/account/two-factor'),
  startEnrollment: () => request<Enrollment>('POST', '/ui/api/account/two-factor/enrollment', {}),
  /** the session changes with it (a second step passed): its new token is used from here on */
  confirmEnrollment: async (code: string) => {
    const answer = await request<{ recoveryCodes: string[]; session: SessionView }>(
      'POST',
      '/ui/api/account/two-factor/enrollment/confirm',
      { code },
    );
    useSession(answer.session);
    return answer;
  },
  regenerate: (code: string) =>
    request<{ recoveryCodes: string[] }>('POST', '/ui/api/account/two-factor/recovery-codes', { code }),
  disable: async (proof: Proof) => {
    const answer = await request<{ status: 'disabled'; session: SessionView }>(
      'POST',
      '/ui/api/account/two-factor/disable',
      proof,
    );
    useSession(answer.session);
    return answer;
  },

  authenticators: () =>
    request<{ authenticators: Authenticator[] }>('GET', '/ui/api/account/two-factor/authenticators').then(
      (answer) => answer.authenticators,
    ),
  /** proved with a current code or a recovery code; pending until `confirmAuthenticator` */
  addAuthenticator: (name: string, proof: Proof) =>
    request<AddedAuthenticator>('POST', '/ui/api/account/two-factor/authenticators', { name, ...proof }),
  confirmAuthenticator: (authenticatorId: string, code: string) =>
    request<Authenticator>('POST', `${authenticatorPath(authenticatorId)}/confirm`, { code }),
  renameAuthenticator: (authenticatorId: string, name: string) =>
    request<Authenticator>('PATCH', authenticatorPath(authenticatorId), { name }),
  /** the last one removed turns 2FA off (and may restrict the session, as turning it off does) */
  removeAuthenticator: async (authenticatorId: string, proof: Proof) => {
    const answer = await request<{
      status: 'enabled' | 'disabled';
      authenticators: number;
      session: SessionView;
    }>('DELETE', authenticatorPath(authenticatorId), proof);
    useSession(answer.session);
    return answer;
  },

  policy: () => request<Policy>('GET', '/ui/api/admin/policy'),
  setPolicy: (requireTwoFactor: boolean, gracePeriodHours: number) =>
    request<Policy>('PUT', '/ui/api/admin/policy', { requireTwoFactor, gracePeriodHours }),
  summary: () => request<UsersSummary>('GET', '/ui/api/admin/users/summary'),
  users: (options: { readonly cursor?: string; readonly status?: UserListFilter } = {}) => {
    const query = new URLSearchParams();
    if (options.status !== undefined) query.set('status', options.status);
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const search = query.toString();
    return request<{ users: UserListItem[]; nextCursor: string | null }>(
      'GET',
      `/ui/api/admin/users${search === '' ? '' : `?${search}`}`,
    );
  },
  reset: (userId: string, reason: string) =>
    request<{ status: 'disabled' }>('POST', `/ui/api/admin/users/${encodeURIComponent(userId)}/reset`, {
      reason,
    }),
  unlock: (userId: string) =>
    request<TwoFactorStatus>('POST', `/ui/api/admin/users/${encodeURIComponent(userId)}/unlock`, {}),
};
