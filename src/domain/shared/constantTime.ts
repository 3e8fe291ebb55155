/**
 * Compares two strings without an early exit, so the time taken does not reveal how many
 * leading characters matched. Strings of different lengths are unequal; their length is
 * not secret here (digests and codes have fixed, public lengths).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let difference = a.length ^ b.length;
  for (let i = 0; i < length; i++) {
    difference |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return difference === 0;
}
