import { describe, expect, it } from 'vitest';
import { createSessionStore } from './sessionStore.ts';

function storeAt(startMs = 1_000_000) {
  let now = startMs;
  const store = createSessionStore({ idleMs: 1_000, absoluteMs: 5_000, max: 3, now: () => now });
  return { store, advance: (ms: number) => (now += ms) };
}

describe('web UI sessions', () => {
  it('gives each session an unguessable id and a separate CSRF token', () => {
    const { store } = storeAt();
    const a = store.create('anonymous', null);
    const b = store.create('anonymous', null);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([a.id, a.csrfToken, b.id, b.csrfToken]).size).toBe(4);
    expect(store.get(a.id)).toBe(a);
  });

  it('ends the previous session when the stage changes, so an id known before is worthless after', () => {
    const { store } = storeAt();
    const anonymous = store.create('anonymous', null);
    const secondStep = store.advance(anonymous, 'second-step', 'ada');
    expect(store.get(anonymous.id)).toBeNull();
    const signedIn = store.advance(secondStep, 'signed-in', 'ada');
    expect(store.get(secondStep.id)).toBeNull();
    expect(store.get(signedIn.id)).toMatchObject({ stage: 'signed-in', userId: 'ada' });
    expect(signedIn.csrfToken).not.toBe(secondStep.csrfToken);
  });

  it('forgets a session left idle, and any session past its absolute lifetime', () => {
    const { store, advance } = storeAt();
    const idle = store.create('signed-in', 'ada');
    const busy = store.create('signed-in', 'bob');
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

  it('keeps a bounded number, dropping the least recently used', () => {
    const { store } = storeAt();
    const [a, b, c] = [
      store.create('anonymous', null),
      store.create('anonymous', null),
      store.create('anonymous', null),
    ];
    store.get(a.id);
    store.create('anonymous', null);
    expect(store.size).toBe(3);
    expect(store.get(b.id)).toBeNull();
    expect(store.get(a.id)).not.toBeNull();
    expect(store.get(c.id)).not.toBeNull();
  });

  it('signs out for good', () => {
    const { store } = storeAt();
    const session = store.create('signed-in', 'ada');
    store.destroy(session.id);
    expect(store.get(session.id)).toBeNull();
    expect(store.get(undefined)).toBeNull();
  });
});
