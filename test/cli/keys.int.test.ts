import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';

// ada and bob, enabled under k1; the tests only read, so they share the recorded DATA_DIR.
const recorded = recordedDataDirs('cli-keys');

describe('twofactor keys status', () => {
  it('counts, per key id, the data keys it wraps and what needs it directly', async () => {
    const env = serviceEnvironment(recorded.template);
    const run = await runTwofactor(['keys', 'status', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      sealingKey: 'k1',
      // Both users' secrets and code sets hang off their data keys, which k1 wraps.
      keys: [
        {
          keyId: 'k1',
          configured: true,
          dataKeys: 2,
          secrets: 0,
          recoveryCodeSets: 0,
          unusable: 0,
          removable: false,
        },
      ],
      users: 2,
      usersAffected: 0,
      unpepperedRecoveryCodeSets: 0,
    });
    const table = await runTwofactor(['keys', 'status'], env);
    expect(table.stdout).toMatch(/^k1\s+yes, seals\s+2\s+0\s+0\s+0\s+no$/m);
  });

  it('names a key stored data needs and the configuration lacks, exits 1, and prints no key', async () => {
    const replacement = randomBytes(32).toString('base64');
    const env = { ...serviceEnvironment(recorded.template), SECRET_ENCRYPTION_KEYS: `k2:${replacement}` };
    const run = await runTwofactor(['keys', 'status', '--json'], env);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.keys).toEqual([
      {
        keyId: 'k2',
        configured: true,
        dataKeys: 0,
        secrets: 0,
        recoveryCodeSets: 0,
        unusable: 0,
        removable: true,
      },
      {
        keyId: 'k1',
        configured: false,
        dataKeys: 2,
        secrets: 0,
        recoveryCodeSets: 0,
        unusable: 2,
        removable: false,
      },
    ]);
    expect(report.usersAffected).toBe(2);
    expect(run.stderr).toContain('k1');
    const original = serviceEnvironment(recorded.template).SECRET_ENCRYPTION_KEYS!.slice(3);
    for (const text of [run.stdout, run.stderr]) {
      expect(text).not.toContain(replacement);
      expect(text).not.toContain(original);
    }
  });
});
