/**
 * Reading options checked the same way by both adapters, before a query runs or anything goes
 * on the wire (append checks: appendInput.ts).
 */
export function nonNegativeBigint(value: unknown, name: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw new TypeError(`${name} must be a bigint >= 0n`);
  return value;
}

/** Infinity for "no limit". */
export function maxCountOf(maxCount: unknown): number {
  if (maxCount === undefined) return Number.POSITIVE_INFINITY;
  if (typeof maxCount !== 'number' || !Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new RangeError('maxCount must be a non-negative integer');
  }
  return maxCount;
}
