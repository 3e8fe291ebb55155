import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';

// Only DATA_DIR is passed on below: the copies' environment is what these tests leave out.
const { stoppedService } = recordedDataDirs('cli-credentials');

it('never mints keys in a data directory whose service took its keys from the environment', async () => {
  const { dataDir } = await stoppedService();
  expect(existsSync(join(dataDir, 'api-keys'))).toBe(false);
  // An administrator with only DATA_DIR set: the command works, and leaves no key file behind
  // that a later development start of the service would silently adopt.
  const unlocked = await runTwofactor(['admin', 'unlock', 'ada', '--actor', 'root'], { DATA_DIR: dataDir });
  expect(unlocked.code).toBe(0);
  // A reset's reason is sealed with bob's data key, which the missing key wraps: refused
  // plainly, nothing recorded, nothing minted.
  const reset = await runTwofactor(['admin', 'reset', 'bob', '--reason', 'test', '--actor', 'root'], {
    DATA_DIR: dataDir,
  });
  expect(reset.code).toBe(1);
  expect(reset.stderr).toContain('nothing was changed');
  expect(reset.stderr).toContain("run with the service's SECRET_ENCRYPTION_KEYS");
  const withKeys = await runTwofactor(
    ['admin', 'reset', 'bob', '--reason', 'test', '--actor', 'root'],
    serviceEnvironment(dataDir),
  );
  expect(withKeys.code).toBe(0);
  expect(existsSync(join(dataDir, 'api-keys'))).toBe(false);
  expect(existsSync(join(dataDir, 'secret-encryption-keys'))).toBe(false);
});

it('refuses a position beyond what the read models can hold as a usage error', async () => {
  const { dataDir } = await stoppedService();
  const run = await runTwofactor(['audit', 'events', '--after', '99999999999999999999'], {
    DATA_DIR: dataDir,
  });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('at most 9223372036854775807');
});
