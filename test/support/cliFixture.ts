import { cpSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { type RecordedHistory, recordHistory, serviceEnvironment } from './recordedHistory.ts';
import { tempDirs } from './tempDirs.ts';

/**
 * What a command-line suite starts from: the small history of `recordHistory()`, written
 * once before the suite into a template DATA_DIR, and for each test a private copy of it
 * with the environment the service ran with — the DATA_DIR of a stopped service, as an
 * administrator finds it. Every directory is removed after the suite.
 */
export function recordedDataDirs(prefix: string) {
  const dirs = tempDirs(prefix);
  let recorded: { template: string; history: RecordedHistory } | undefined;
  beforeAll(async () => {
    const template = await dirs.make();
    recorded = { template, history: await recordHistory(template) };
  });
  afterAll(() => dirs.removeAll());
  const made = () => {
    if (recorded === undefined)
      throw new Error('the history is recorded in beforeAll: use it in a test or hook');
    return recorded;
  };
  return {
    /** further empty directories, removed with the rest */
    dirs,
    /** the recorded DATA_DIR itself, shared by the suite's tests: for reading, not changing */
    get template(): string {
      return made().template;
    },
    get history(): RecordedHistory {
      return made().history;
    },
    /** a private copy of the recorded history, and the environment the service ran with */
    async stoppedService(): Promise<{ dataDir: string; env: Record<string, string> }> {
      // Each test changes only its own copy.
      const dataDir = await dirs.make();
      cpSync(made().template, dataDir, { recursive: true });
      return { dataDir, env: serviceEnvironment(dataDir) };
    },
  };
}
