import { describe, expect, it } from 'vitest';
import { hasPlaintextPersonalFields } from './personalFields.ts';

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
