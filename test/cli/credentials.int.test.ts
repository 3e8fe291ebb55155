import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordHistory } from '../support/recordedHistory.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { copyDataDir, runTwofactor } from './cliProcess.ts';

const dirs = tempDirs('cli-credentials');
afterAll(() => dirs.removeAll());

let template: string;
beforeAll(async () => {
  template = await dirs.make();
  await recordHistory(template);
});

it('never mints keys in a data directory whose service took its keys from the environment', async () => {
  const dataDir = copyDataDir(template, await dirs.make());
  expect(existsSync(join(dataDir, 'api-keys'))).toBe(false);
  // An administrator with only DATA_DIR set: the command works, and leaves no key file behind
  // that a later development start of the service would silently adopt.
  const unlocked = await runTwofactor(['admin', 'unlock', 'ada', '--actor', 'root'], { DATA_DIR: dataDir });
  expect(unlocked.code).toBe(0);
  const reset = await runTwofactor(['admin', 'reset', 'bob', '--reason', 'test', '--actor', 'root'], {
    DATA_DIR: dataDir,
  });
  expect(reset.code).toBe(0);
  expect(existsSync(join(dataDir, 'api-keys'))).toBe(false);
  expect(existsSync(join(dataDir, 'secret-encryption-keys'))).toBe(false);
});

it('refuses a position beyond what the read models can hold as a usage error', async () => {
  const dataDir = copyDataDir(template, await dirs.make());
  const run = await runTwofactor(['audit', 'events', '--after', '99999999999999999999'], {
    DATA_DIR: dataDir,
  });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('at most 9223372036854775807');
});
