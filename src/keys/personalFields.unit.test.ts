import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Event } from '../domain/shared/message.ts';
import { createInMemoryKeyStore } from './keyStore.ts';
import {
  hasPlaintextPersonalFields,
  openPersonalFields,
  plaintextPersonalFields,
  sealedPersonalFieldsOf,
  sealPersonalFields,
} from './personalFields.ts';
import { createUserKeys } from './userKeys.ts';

describe('events with personal fields in plain text (written before data keys)', () => {
  it('are told apart by an end-user address or agent in the metadata', () => {
    expect(
      hasPlaintextPersonalFields({
        type: 'SignInVerified',
        data: {},
        metadata: { endUserIp: '203.0.113.7' },
      }),
    ).toBe(true);
    expect(
      hasPlaintextPersonalFields({
        type: 'SignInVerified',
        data: {},
        metadata: { endUserAgent: 'Firefox/140' },
      }),
    ).toBe(true);
  });

  it('or by the addresses a count of refusals carries in its data', () => {
    expect(
      hasPlaintextPersonalFields({
        type: 'RefusedAttemptsCounted',
        data: { endUserIps: ['198.51.100.9'] },
        metadata: {},
      }),
    ).toBe(true);
    expect(
      hasPlaintextPersonalFields({ type: 'RefusedAttemptsCounted', data: { endUserIps: [] }, metadata: {} }),
    ).toBe(false);
  });

  it('and not confused with an event whose personal fields are sealed', () => {
    const sealed = {
      personal: { keyId: 'dk:1', nonce: 'n', ciphertext: 'c', tag: 't' },
      actor: { role: 'web' },
    };
    expect(
      hasPlaintextPersonalFields({ type: 'SignInVerified', data: { userId: 'ada' }, metadata: sealed }),
    ).toBe(false);
  });
});

describe('sealing an event’s personal fields', () => {
  const keys = createUserKeys(createInMemoryKeyStore(), [{ id: 'k1', key: randomBytes(32) }]);
  /** An event as the domain hands it over: any type, its data and metadata as given. */
  const event = (type: string, data: Record<string, unknown>, metadata: Record<string, unknown>) =>
    ({
      type,
      data: { userId: 'ada', at: '2030-01-01T00:00:00.000Z', ...data },
      metadata: { correlationId: 'c', causationId: 'c', schemaVersion: 1, ...metadata },
    }) as unknown as Event<string, Record<string, unknown>>;

  it('seals the id a web call acted for, and leaves an administrator’s id readable', async () => {
    const web = await sealPersonalFields(
      event(
        'SignInVerified',
        {},
        { actor: { role: 'web', id: 'ada@example.com' }, endUserIp: '203.0.113.7' },
      ),
      keys.forUser('ada'),
    );
    expect(web.metadata).toMatchObject({ actor: { role: 'web', id: null } });
    expect(JSON.stringify(web)).not.toContain('ada@example.com');
    const opened = await openPersonalFields(sealedPersonalFieldsOf(web.metadata)!, keys.forUser('ada'));
    expect(opened?.metadata).toEqual({ endUserIp: '203.0.113.7', actorId: 'ada@example.com' });
    const admin = event('LockoutCleared', {}, { actor: { role: 'admin', id: 'root' } });
    expect(await sealPersonalFields(admin, keys.forUser('ada'))).toBe(admin);
  });

  it('seals a reset’s reason, and not the erasure’s own', async () => {
    const reset = await sealPersonalFields(
      event(
        'AdminReset',
        { reason: 'ada called, ticket 9', previousStatus: 'enabled' },
        { actor: { role: 'admin', id: 'root' } },
      ),
      keys.forUser('ada'),
    );
    expect(reset.data).not.toHaveProperty('reason');
    const opened = await openPersonalFields(sealedPersonalFieldsOf(reset.metadata)!, keys.forUser('ada'));
    expect(opened?.data).toEqual({ reason: 'ada called, ticket 9' });
    const erased = event(
      'UserErased',
      { reason: 'erasure request', previousStatus: 'enabled' },
      { actor: { role: 'admin', id: 'root' } },
    );
    expect(await sealPersonalFields(erased, keys.forUser('ada'))).toBe(erased);
  });

  it('takes an empty field for no personal data: nothing sealed, no data key made', async () => {
    const count = event(
      'RefusedAttemptsCounted',
      { attempts: 3, endUserIps: [] },
      { actor: { role: 'web', id: null } },
    );
    expect(await sealPersonalFields(count, keys.forUser('nobody-yet'))).toBe(count);
    expect(await keys.store.get('nobody-yet')).toBeNull();
  });

  it('never makes a data key when told not to: the end user’s fields are left out, a reason stays readable', async () => {
    const keyring = keys.forUser('erased-user');
    const count = await sealPersonalFields(
      event(
        'RefusedAttemptsCounted',
        { attempts: 3, endUserIps: ['198.51.100.9'] },
        { actor: { role: 'web', id: 'e' }, endUserIp: '198.51.100.9' },
      ),
      keyring,
      { createKey: false },
    );
    expect(count.data.endUserIps).toEqual([]);
    expect(count.metadata).not.toHaveProperty('endUserIp');
    expect(count.metadata).toMatchObject({ actor: { role: 'web', id: null } });
    expect(count.metadata).not.toHaveProperty('personal');
    const reset = await sealPersonalFields(
      event(
        'AdminReset',
        { reason: 'after the erasure', previousStatus: 'disabled' },
        { actor: { role: 'admin', id: 'root' } },
      ),
      keyring,
      { createKey: false },
    );
    expect(reset.data.reason).toBe('after the erasure');
    expect(await keys.store.get('erased-user')).toBeNull();
  });

  it('names the kinds of personal field an old event holds in plain text', () => {
    expect(
      plaintextPersonalFields(
        event('AdminReset', { reason: 'lost phone' }, { actor: { role: 'admin', id: 'root' } }),
      ),
    ).toEqual(['reason']);
    expect(
      plaintextPersonalFields(
        event('SignInVerified', {}, { actor: { role: 'web', id: 'ada' }, endUserAgent: 'Firefox/140' }),
      ),
    ).toEqual(['endUserAgent', 'actorId']);
  });
});
