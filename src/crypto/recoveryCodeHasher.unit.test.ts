import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { matchRecoveryCode } from '../domain/twoFactor/recoveryCodes.ts';
import { createPepperRing } from './pepper.ts';
import { createRecoveryCodeHasher } from './recoveryCodeHasher.ts';
import { KeyUnavailableError } from './secretBox.ts';
import { createWorkLimiter, WorkOverloadedError } from './workLimiter.ts';

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

describe('recovery code pepper', () => {
  const keys = (...ids: string[]) => ids.map((id) => ({ id, key: randomBytes(32) }));

  it('peppers a new set with the first key, and checks its codes', async () => {
    const hasher = createRecoveryCodeHasher(cheap, { peppers: createPepperRing(keys('k2', 'k1')) });
    const { codes, set } = await hasher.newSet();
    expect(set.pepperKeyId).toBe('k2');
    const digest = await hasher.digestOf(codes[3]!, set);
    expect(
      matchRecoveryCode(
        set,
        set.digests.map(() => false),
        digest ?? '',
      ),
    ).toBe(3);
  });

  it('refuses digests planted by someone without the key, though their codes are known', async () => {
    const ring = createPepperRing(keys('k1'));
    const planted = await createRecoveryCodeHasher(cheap).newSet(); // argon2 of the bare codes
    const forged = { ...planted.set, pepperKeyId: 'k1' };
    const hasher = createRecoveryCodeHasher(cheap, { peppers: ring });
    const digest = await hasher.digestOf(planted.codes[0]!, forged);
    expect(
      matchRecoveryCode(
        forged,
        forged.digests.map(() => false),
        digest ?? '',
      ),
    ).toBeNull();
  });

  it('refuses a set without pepper, planted or old, unless told to accept old ones', async () => {
    const legacy = await createRecoveryCodeHasher(cheap).newSet();
    const unused = legacy.set.digests.map(() => false);
    const strict = createRecoveryCodeHasher(cheap, { peppers: createPepperRing(keys('k1')) });
    const before = strict.computations();
    expect(await strict.digestOf(legacy.codes[1]!, legacy.set)).toBeNull();
    expect(strict.computations()).toBe(before);
    const migrating = createRecoveryCodeHasher(cheap, {
      peppers: createPepperRing(keys('k1')),
      acceptUnpeppered: true,
    });
    const digest = await migrating.digestOf(legacy.codes[1]!, legacy.set);
    expect(matchRecoveryCode(legacy.set, unused, digest ?? '')).toBe(1);
  });

  it('names the missing key when a set was peppered with a key no longer configured', async () => {
    const { codes, set } = await createRecoveryCodeHasher(cheap, {
      peppers: createPepperRing(keys('old')),
    }).newSet();
    const hasher = createRecoveryCodeHasher(cheap, { peppers: createPepperRing(keys('new')) });
    const failure = await hasher.digestOf(codes[0]!, set).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeyUnavailableError);
    expect((failure as KeyUnavailableError).keyId).toBe('old');
  });

  it('sheds a check that would wait too long, before any work; issuing a set is never shed', async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 1, maxWaitMs: 0 });
    const hasher = createRecoveryCodeHasher(cheap, { limiter });
    const { set } = await hasher.newSet();
    const before = hasher.computations();
    const first = hasher.digestOf('00000-00000', set, undefined, 'ip:198.51.100.7');
    // The same address's next check would wait behind the first: shed at once.
    await expect(hasher.digestOf('00000-00001', set, undefined, 'ip:198.51.100.7')).rejects.toBeInstanceOf(
      WorkOverloadedError,
    );
    const issued = hasher.newSet();
    await first;
    expect((await issued).codes).toHaveLength(10);
    expect(hasher.computations()).toBe(before + 11);
  });
});
