import { describe, expect, it } from 'vitest';
import { throttleKeyOfAddress } from './throttleKey.ts';

describe('throttle key of an end-user address', () => {
  it('is the address itself for IPv4', () => {
    expect(throttleKeyOfAddress('203.0.113.9')).toBe('ip:203.0.113.9');
  });

  it('is the /64 for IPv6, whatever the spelling', () => {
    const key = throttleKeyOfAddress('2001:db8:0:1::1');
    expect(key).toBe('ip:2001:db8:0:1::/64');
    expect(throttleKeyOfAddress('2001:0DB8:0000:0001:ffff:ffff:ffff:ffff')).toBe(key);
    expect(throttleKeyOfAddress('2001:db8::1:0:0:0:2')).toBe(key);
    expect(throttleKeyOfAddress('2001:db8:0:2::1')).not.toBe(key);
    expect(throttleKeyOfAddress('::1')).toBe('ip:0:0:0:0::/64');
  });

  it('reads an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(throttleKeyOfAddress('::ffff:203.0.113.9')).toBe('ip:203.0.113.9');
    expect(throttleKeyOfAddress('::ffff:cb00:7109')).toBe('ip:203.0.113.9');
  });
});
