import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseCount, parseId, parsePosition, parseReason, parseTime } from './arguments.ts';

describe('command line arguments', () => {
  it('takes ids by the API rule: 1–128 characters of [A-Za-z0-9._:@-]', () => {
    expect(parseId('ada@example.com')).toBe('ada@example.com');
    expect(parseId('a'.repeat(128))).toHaveLength(128);
    for (const bad of ['', 'a'.repeat(129), 'ada smith', 'ada/bob', 'é', 'a\nb']) {
      expect(() => parseId(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('takes a reason of 1–500 characters, trimmed', () => {
    expect(parseReason('  lost phone ')).toBe('lost phone');
    expect(() => parseReason('   ')).toThrow(InvalidArgumentError);
    expect(() => parseReason('x'.repeat(501))).toThrow(InvalidArgumentError);
  });

  it('refuses a reason with control characters or bidirectional overrides, as the API does', () => {
    expect(parseReason('lost phone — ticket 42 (日本)')).toBe('lost phone — ticket 42 (日本)');
    for (const bad of ['a\u0007b', 'a\u009bb', 'ticket \u202E24', 'x\u2066y\u2069', 'a\u202Ab']) {
      expect(() => parseReason(bad), JSON.stringify(bad)).toThrow(/bidirectional/);
    }
  });

  it('takes ISO 8601 times with an offset, or a date meaning its start in UTC', () => {
    expect(parseTime('2026-01-31T12:00:00Z')).toBe(Date.UTC(2026, 0, 31, 12));
    expect(parseTime('2026-01-31T13:00:00+01:00')).toBe(Date.UTC(2026, 0, 31, 12));
    expect(parseTime('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    for (const bad of ['yesterday', '2026-01-31T12:00:00', '31/01/2026', '2026-02-30', '']) {
      expect(() => parseTime(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it('takes positions beyond 2^53 exactly, up to the 64-bit signed maximum of log positions', () => {
    expect(parsePosition('9007199254740993')).toBe(9007199254740993n);
    expect(parsePosition('9223372036854775807')).toBe(9223372036854775807n);
    expect(() => parsePosition('9223372036854775808')).toThrow(/at most/);
    for (const bad of ['-1', '1.5', '0x10', '', '1e3']) expect(() => parsePosition(bad), bad).toThrow();
  });

  it('takes counts of at least 1', () => {
    expect(parseCount('10')).toBe(10);
    for (const bad of ['0', '-1', '1.5', 'ten'])
      expect(() => parseCount(bad), bad).toThrow(InvalidArgumentError);
  });
});
