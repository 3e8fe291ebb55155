/**
 * The page size a list query asked for, or its default; a RangeError (the HTTP layer's 400)
 * for anything but a whole number from 1 to `max`. One rule for every paged read model.
 */
export function pageLimit(limit: number | undefined, defaultLimit: number, max: number): number {
  const take = limit ?? defaultLimit;
  if (!Number.isSafeInteger(take) || take < 1 || take > max) {
    throw new RangeError(`limit must be an integer from 1 to ${max}`);
  }
  return take;
}
