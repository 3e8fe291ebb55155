import { describe, expect, it } from 'vitest';
import { matchRecoveryCode } from '../domain/twoFactor/recoveryCodes.ts';
import { createRecoveryCodeHasher } from './recoveryCodeHasher.ts';

const cheap = {
  algorithm: 'argon2id',
  memoryCost: 1024,
  timeCost: 1,
  parallelism: 1,
  outputLength: 32,
} as const;

describe('recovery code hasher', () => {
  it('makes ten distinct codes and one argon2id digest each under one salt', async () => {
    const hasher = createRecoveryCodeHasher(cheap);
    const { codes, set } = await hasher.newSet();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(set.digests).toHaveLength(10);
    expect(new Set(set.digests).size).toBe(10);
    expect(Buffer.from(set.salt, 'base64')).toHaveLength(16);
    expect(set.parameters).toEqual(cheap);
    expect(JSON.stringify(set)).not.toContain(codes[0]);
  });

  it('checks a presented code with exactly one argon2 computation, whatever its position', async () => {
    const hasher = createRecoveryCodeHasher(cheap);
    const { codes, set } = await hasher.newSet();
    const used = set.digests.map(() => false);
    for (const [index, code] of codes.entries()) {
      const before = hasher.computations();
      const digest = await hasher.digestOf(code.toUpperCase().replace('-', ' '), set);
      expect(hasher.computations() - before).toBe(1);
      expect(matchRecoveryCode(set, used, digest ?? '')).toBe(index);
    }
  });

  it('does not hash what cannot be a code, and a wrong code matches nothing', async () => {
    const hasher = createRecoveryCodeHasher(cheap);
    const { set } = await hasher.newSet();
    const before = hasher.computations();
    expect(await hasher.digestOf('not a code!', set)).toBeNull();
    expect(hasher.computations()).toBe(before);
    const wrong = await hasher.digestOf('00000-00000', set);
    expect(
      matchRecoveryCode(
        set,
        set.digests.map(() => false),
        wrong ?? '',
      ),
    ).toBeNull();
  });

  it('uses the OWASP argon2id minimum by default', async () => {
    const { set } = await createRecoveryCodeHasher().newSet();
    expect(set.parameters).toMatchObject({
      algorithm: 'argon2id',
      memoryCost: 19_456,
      timeCost: 2,
      parallelism: 1,
    });
  });
});
