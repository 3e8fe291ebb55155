import { randomBytes } from 'node:crypto';

/**
 * Where a signed-in browser stands: past the first step but owing the second, or signed in.
 * A browser that has not signed in has no session at all (its sign-in form is protected by a
 * stateless token, `signInToken.ts`), so no request before a sign-in costs any memory.
 */
export type SessionStage = 'second-step' | 'signed-in';

/**
 * What a signed-in session must do before it may reach anything else: `enroll`, set up
 * two-factor authentication (an administrator without it, or a user whose deadline under
 * "require 2FA" has come). Such a session reaches only its account's setup and sign-out.
 */
export type SessionRestriction = 'enroll';

export type Session = {
  /** the cookie's value: 256 random bits */
  readonly id: string;
  /** sent back by the page in a header on every change; never in a cookie */
  readonly csrfToken: string;
  readonly stage: SessionStage;
  readonly userId: string;
  /** the throttle bucket of the address that signed in: pending sessions are bounded per address */
  readonly address: string;
  /** whether this session passed a second step: verified a code, or confirmed an enrollment */
  readonly secondFactor: boolean;
  readonly restriction: SessionRestriction | null;
  readonly createdAtMs: number;
  lastSeenAtMs: number;
  /**
   * the user chose "Remind me later" for a setup they may still put off: not asked again in
   * this session (asked again at the next sign-in)
   */
  setupDeferred: boolean;
};

export type SessionStoreOptions = {
  /** a signed-in session unused this long is gone; default 30 minutes */
  readonly idleMs?: number;
  /** and any signed-in session this old; default 12 hours */
  readonly absoluteMs?: number;
  /** a session waiting for its second step lasts this long; default 10 minutes */
  readonly pendingMs?: number;
  /** sessions waiting for their second step, per address; the address's oldest goes first; default 10 */
  readonly maxPendingPerAddress?: number;
  /** sessions waiting for their second step, in all; the oldest goes first; default 10,000 */
  readonly maxPending?: number;
  /** signed-in sessions of one user; that user's oldest is ended first; default 10 */
  readonly maxPerUser?: number;
  /** signed-in sessions in all: past it, sign-ins are refused, never anyone signed out; default 100,000 */
  readonly maxSignedIn?: number;
  /** wall-clock milliseconds: sessions age in real time, whatever clock the domain is given */
  readonly now?: () => number;
};

/** Every signed-in session the store may hold is taken: a sign-in must wait for one to end. */
export class SessionsFullError extends Error {
  override readonly name = 'SessionsFullError';
}

export type SessionStore = ReturnType<typeof createSessionStore>;

const token = () => randomBytes(32).toString('base64url');

/** Oldest first, by insertion: a Map keeps the order its keys were added. */
type OrderedIds = Map<string, true>;

function addTo(index: Map<string, OrderedIds>, key: string, id: string): OrderedIds {
  let ids = index.get(key);
  if (ids === undefined) {
    ids = new Map();
    index.set(key, ids);
  }
  ids.set(id, true);
  return ids;
}

function removeFrom(index: Map<string, OrderedIds>, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(key);
}

/**
 * The web UI's sessions, in memory: a restart signs everyone out, which is what a reference
 * front end needs. Every change of stage or of what a session may do gets a new id and CSRF
 * token, so an id seen before it (fixation) is worth nothing after it.
 *
 * Nobody else's traffic can end a signed-in session: it ends when it has been idle too long,
 * when it is too old, when its user signs in more often than the per-user cap allows, or at
 * sign-out. Sessions waiting for their second step (which anyone who can name a user with 2FA
 * can start) are bounded apart, per address and in all, and only they are ever pushed out.
 */
export function createSessionStore(options: SessionStoreOptions = {}) {
  const idleMs = options.idleMs ?? 30 * 60_000;
  const absoluteMs = options.absoluteMs ?? 12 * 60 * 60_000;
  const pendingMs = options.pendingMs ?? 10 * 60_000;
  const maxPendingPerAddress = options.maxPendingPerAddress ?? 10;
  const maxPending = options.maxPending ?? 10_000;
  const maxPerUser = options.maxPerUser ?? 10;
  const maxSignedIn = options.maxSignedIn ?? 100_000;
  const now = options.now ?? Date.now;

  const sessions = new Map<string, Session>();
  /** pending sessions, oldest first, in all and per address */
  const pending: OrderedIds = new Map();
  const pendingByAddress = new Map<string, OrderedIds>();
  /** signed-in sessions per user, oldest first */
  const signedInByUser = new Map<string, OrderedIds>();
  let signedIn = 0;

  const expired = (session: Session, at: number): boolean =>
    session.stage === 'second-step'
      ? at - session.createdAtMs > pendingMs
      : at - session.lastSeenAtMs > idleMs || at - session.createdAtMs > absoluteMs;

  function remove(id: string): void {
    const session = sessions.get(id);
    if (session === undefined) return;
    sessions.delete(id);
    if (session.stage === 'second-step') {
      pending.delete(id);
      removeFrom(pendingByAddress, session.address, id);
    } else {
      signedIn--;
      removeFrom(signedInByUser, session.userId, id);
    }
  }

  /** Ends the sessions that have expired: all of them once a minute, when sessions are made. */
  let sweptAtMs = now();
  function sweep(at: number): void {
    if (at - sweptAtMs < 60_000) return;
    sweptAtMs = at;
    for (const [id, session] of sessions) if (expired(session, at)) remove(id);
  }

  function add(session: Session): Session {
    sessions.set(session.id, session);
    if (session.stage === 'second-step') {
      pending.set(session.id, true);
      const ofAddress = addTo(pendingByAddress, session.address, session.id);
      while (ofAddress.size > maxPendingPerAddress) remove(ofAddress.keys().next().value as string);
      while (pending.size > maxPending) remove(pending.keys().next().value as string);
    } else {
      signedIn++;
      const ofUser = addTo(signedInByUser, session.userId, session.id);
      while (ofUser.size > maxPerUser) remove(ofUser.keys().next().value as string);
    }
    return session;
  }

  type Fields = Pick<Session, 'stage' | 'userId' | 'address' | 'secondFactor' | 'restriction'>;

  /**
   * A new session with these fields, ending `previous` (if any). Throws SessionsFullError when
   * a signed-in session is asked for and every one the store may hold is taken.
   */
  function start(previous: Session | null, fields: Fields): Session {
    const at = now();
    sweep(at);
    if (previous !== null) remove(previous.id);
    if (fields.stage === 'signed-in' && signedIn >= maxSignedIn) {
      throw new SessionsFullError('every signed-in session the service keeps is taken');
    }
    // A signed-in session that changes what it may do keeps its age: its absolute end stays.
    const createdAtMs =
      previous?.stage === 'signed-in' && fields.stage === 'signed-in' ? previous.createdAtMs : at;
    return add({
      ...fields,
      id: token(),
      csrfToken: token(),
      createdAtMs,
      lastSeenAtMs: at,
      setupDeferred: false,
    });
  }

  return {
    start,

    /** the live session with this id, marked as used; null when unknown or expired */
    get(id: string | undefined): Session | null {
      if (id === undefined) return null;
      const session = sessions.get(id);
      if (session === undefined) return null;
      const at = now();
      if (expired(session, at)) {
        remove(id);
        return null;
      }
      session.lastSeenAtMs = at;
      return session;
    },

    destroy(id: string): void {
      remove(id);
    },

    /** how many sessions are kept, by stage */
    get size(): { readonly pending: number; readonly signedIn: number } {
      return { pending: pending.size, signedIn };
    },
  };
}
