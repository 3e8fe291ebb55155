import { isIPv4 } from 'node:net';

/** The eight 16-bit groups of an IPv6 address, with an embedded IPv4 tail folded in. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16));
}

/**
 * The throttle's bucket for an end-user address. One IPv4 address is one bucket. IPv6 is
 * bucketed by /64: a single subscriber usually holds a whole /64, and could otherwise rotate
 * through 2^64 addresses; spellings of the same address (`::1`, `0:0::1`) share a bucket.
 * An IPv4-mapped IPv6 address is its IPv4 address.
 */
export function throttleKeyOfAddress(address: string): string {
  if (isIPv4(address)) return `ip:${address}`;
  const groups = ipv6Groups(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `ip:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `ip:${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
