import { describe, expect, it } from 'vitest';
import { normaliseReason, REASON_MAX_LENGTH, reasonProblem } from './reason.ts';

describe('an administrator’s reason', () => {
  it('is accepted as plain text up to the limit, without the whitespace around it', () => {
    expect(normaliseReason('  lost phone  ')).toBe('lost phone');
    expect(reasonProblem('lost phone')).toBeNull();
    expect(reasonProblem('x'.repeat(REASON_MAX_LENGTH))).toBeNull();
  });

  it('is refused when empty, too long or carrying characters that can disguise a record', () => {
    expect(reasonProblem(normaliseReason('   '))).toBe('must not be empty');
    expect(reasonProblem('x'.repeat(REASON_MAX_LENGTH + 1))).toBe('must be at most 500 characters');
    expect(reasonProblem('ok\u202eevil')).toMatch(/bidirectional/);
    expect(reasonProblem('bell\u0007')).toMatch(/control characters/);
  });
});
