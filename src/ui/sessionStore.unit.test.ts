import { describe, expect, it } from 'vitest';
import { createSessionStore, type SessionStoreOptions, SessionsFullError } from './sessionStore.ts';

function storeAt(options: Omit<SessionStoreOptions, 'now'> = {}, startMs = 1_000_000) {
  let now = startMs;
  const store = createSessionStore({
    idleMs: 1_000,
    absoluteMs: 5_000,
    pendingMs: 300,
    ...options,
    now: () => now,
  });
  return { store, advance: (ms: number) => (now += ms) };
}

const signedIn = (userId: string, address = 'ip:192.0.2.1') =>
  ({ stage: 'signed-in', userId, address, secondFactor: false, restriction: null }) as const;
const pending = (userId: string, address = 'ip:192.0.2.1') =>
  ({ stage: 'second-step', userId, address, secondFactor: false, restriction: null }) as const;

describe('web UI sessions', () => {
  it('gives each session an unguessable id and a separate CSRF token', () => {
    const { store } = storeAt();
    const a = store.start(null, signedIn('ada'));
    const b = store.start(null, signedIn('bob'));
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([a.id, a.csrfToken, b.id, b.csrfToken]).size).toBe(4);
    expect(store.get(a.id)).toBe(a);
  });

  it('ends the previous session when a new one starts, so an id known before is worthless after', () => {
    const { store } = storeAt();
    const secondStep = store.start(null, pending('ada'));
    const done = store.start(secondStep, { ...signedIn('ada'), secondFactor: true });
    expect(store.get(secondStep.id)).toBeNull();
    expect(store.get(done.id)).toMatchObject({ stage: 'signed-in', userId: 'ada', secondFactor: true });
    expect(done.csrfToken).not.toBe(secondStep.csrfToken);
    expect(store.size).toEqual({ pending: 0, signedIn: 1 });
  });

  it('forgets a signed-in session left idle, and any past its absolute lifetime', () => {
    const { store, advance } = storeAt();
    const idle = store.start(null, signedIn('ada'));
    const busy = store.start(null, signedIn('bob'));
    advance(900);
    expect(store.get(busy.id)).not.toBeNull();
    advance(200);
    expect(store.get(idle.id)).toBeNull();
    for (let i = 0; i < 5; i++) {
      advance(900);
      store.get(busy.id);
    }
    expect(store.get(busy.id)).toBeNull();
  });

  it('gives a second step a short life of its own, however busy the session', () => {
    const { store, advance } = storeAt();
    const waiting = store.start(null, pending('ada'));
    advance(200);
    expect(store.get(waiting.id)).not.toBeNull();
    advance(200);
    expect(store.get(waiting.id)).toBeNull();
  });

  it('keeps what a session may do apart from its age: a changed session ends when the first would have', () => {
    const { store, advance } = storeAt();
    const restricted = store.start(null, { ...signedIn('root'), restriction: 'enroll' });
    advance(4_000);
    const enrolled = store.start(restricted, { ...signedIn('root'), secondFactor: true });
    advance(900);
    expect(store.get(enrolled.id)).not.toBeNull();
    advance(200);
    expect(store.get(enrolled.id)).toBeNull();
  });

  it('bounds the second steps waiting per address, pushing out that address’s oldest only', () => {
    const { store } = storeAt({ maxPendingPerAddress: 2 });
    const elsewhere = store.start(null, pending('cy', 'ip:198.51.100.9'));
    const [first, second] = [store.start(null, pending('ada')), store.start(null, pending('bob'))];
    const third = store.start(null, pending('dee'));
    expect(store.get(first.id)).toBeNull();
    expect(store.get(second.id)).not.toBeNull();
    expect(store.get(third.id)).not.toBeNull();
    expect(store.get(elsewhere.id)).not.toBeNull();
  });

  it('never pushes out a signed-in session for anyone else’s sessions', () => {
    const { store } = storeAt({ maxPending: 5, maxPendingPerAddress: 5 });
    const ada = store.start(null, signedIn('ada'));
    for (let i = 0; i < 50; i++) store.start(null, pending(`flood-${i}`, `ip:203.0.113.${i}`));
    for (let i = 0; i < 9; i++) store.start(null, signedIn(`user-${i}`));
    expect(store.get(ada.id)).not.toBeNull();
    expect(store.size).toEqual({ pending: 5, signedIn: 10 });
  });

  it('caps one user’s signed-in sessions by ending that user’s oldest', () => {
    const { store } = storeAt({ maxPerUser: 2 });
    const bob = store.start(null, signedIn('bob'));
    const [first, second, third] = [
      store.start(null, signedIn('ada')),
      store.start(null, signedIn('ada')),
      store.start(null, signedIn('ada')),
    ];
    expect(store.get(first.id)).toBeNull();
    expect(store.get(second.id)).not.toBeNull();
    expect(store.get(third.id)).not.toBeNull();
    expect(store.get(bob.id)).not.toBeNull();
  });

  it('refuses a sign-in when every signed-in session it may keep is taken, and signs nobody out', () => {
    const { store } = storeAt({ maxSignedIn: 2 });
    const kept = [store.start(null, signedIn('ada')), store.start(null, signedIn('bob'))];
    expect(() => store.start(null, signedIn('cy'))).toThrow(SessionsFullError);
    for (const session of kept) expect(store.get(session.id)).not.toBeNull();
    // A second step is no signed-in session: it may still start.
    expect(store.start(null, pending('cy')).stage).toBe('second-step');
  });

  it('signs out for good', () => {
    const { store } = storeAt();
    const session = store.start(null, signedIn('ada'));
    store.destroy(session.id);
    expect(store.get(session.id)).toBeNull();
    expect(store.get(undefined)).toBeNull();
    expect(store.size).toEqual({ pending: 0, signedIn: 0 });
  });
});
