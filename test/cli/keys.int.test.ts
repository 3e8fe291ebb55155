import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory, serviceEnvironment } from '../support/recordedHistory.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { runTwofactor } from './cliProcess.ts';

const dirs = tempDirs('cli-keys');
afterAll(() => dirs.removeAll());

let dataDir: string;
beforeAll(async () => {
  dataDir = await dirs.make();
  await recordHistory(dataDir); // ada and bob, enabled under k1
});

describe('twofactor keys status', () => {
  it('counts, per key id, the data keys it wraps and what needs it directly', async () => {
    const env = serviceEnvironment(dataDir);
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
    const env = { ...serviceEnvironment(dataDir), SECRET_ENCRYPTION_KEYS: `k2:${replacement}` };
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
    const original = serviceEnvironment(dataDir).SECRET_ENCRYPTION_KEYS!.slice(3);
    for (const text of [run.stdout, run.stderr]) {
      expect(text).not.toContain(replacement);
      expect(text).not.toContain(original);
    }
  });
});
