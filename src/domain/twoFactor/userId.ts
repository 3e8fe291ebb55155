/**
 * A user id as the contract defines it: opaque, 1–128 characters of [A-Za-z0-9._:@-] — safe
 * in a URL path, a stream name and a log line without escaping.
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

export const USER_ID_RULE = 'must be 1–128 characters of [A-Za-z0-9._:@-]';

export const isUserId = (value: string): boolean => USER_ID_PATTERN.test(value);
