import { randomBytes } from 'node:crypto';

/**
 * Where a browser stands: not signed in, past the demo first step but owing the second, or
 * signed in. Only `signed-in` may act on an account.
 */
export type SessionStage = 'anonymous' | 'second-step' | 'signed-in';

export type Session = {
  /** the cookie's value: 256 random bits */
  readonly id: string;
  /** sent back by the page in a header on every change; never in a cookie */
  readonly csrfToken: string;
  readonly stage: SessionStage;
  /** null while anonymous */
  readonly userId: string | null;
  readonly createdAtMs: number;
  lastSeenAtMs: number;
};

export type SessionStoreOptions = {
  /** a session unused this long is gone; default 30 minutes */
  readonly idleMs?: number;
  /** and any session this old; default 12 hours */
  readonly absoluteMs?: number;
  /** most sessions kept; the least recently used go first; default 10,000 */
  readonly max?: number;
  /** wall-clock milliseconds: sessions age in real time, whatever clock the domain is given */
  readonly now?: () => number;
};

export type SessionStore = ReturnType<typeof createSessionStore>;

const token = () => randomBytes(32).toString('base64url');

/**
 * The web UI's demo sessions, in memory: a restart signs everyone out, which is what a
 * reference front end needs. Every change of stage gets a new id and CSRF token, so an id
 * seen before sign-in (fixation) or before the second step is worth nothing after it.
 */
export function createSessionStore(options: SessionStoreOptions = {}) {
  const idleMs = options.idleMs ?? 30 * 60_000;
  const absoluteMs = options.absoluteMs ?? 12 * 60 * 60_000;
  const max = options.max ?? 10_000;
  const now = options.now ?? Date.now;
  // Insertion order is use order: `get` re-inserts, so the first entry is the least recently used.
  const sessions = new Map<string, Session>();

  function create(stage: SessionStage, userId: string | null): Session {
    const at = now();
    const session: Session = {
      id: token(),
      csrfToken: token(),
      stage,
      userId,
      createdAtMs: at,
      lastSeenAtMs: at,
    };
    sessions.set(session.id, session);
    while (sessions.size > max) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
    return session;
  }

  return {
    create,

    /** the live session with this id, marked as used; null when unknown or expired */
    get(id: string | undefined): Session | null {
      if (id === undefined) return null;
      const session = sessions.get(id);
      if (session === undefined) return null;
      const at = now();
      if (at - session.lastSeenAtMs > idleMs || at - session.createdAtMs > absoluteMs) {
        sessions.delete(id);
        return null;
      }
      session.lastSeenAtMs = at;
      sessions.delete(id);
      sessions.set(id, session);
      return session;
    },

    /** ends `previous` and starts a session in the new stage, with a new id and token */
    advance(previous: Session | null, stage: SessionStage, userId: string | null): Session {
      if (previous !== null) sessions.delete(previous.id);
      return create(stage, userId);
    },

    destroy(id: string): void {
      sessions.delete(id);
    },

    get size(): number {
      return sessions.size;
    },
  };
}
