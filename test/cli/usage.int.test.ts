import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTwofactor } from '../support/cliProcess.ts';
import { serviceEnvironment } from '../support/recordedHistory.ts';
import { tempDirs } from '../support/tempDirs.ts';

const dirs = tempDirs('cli-usage');
afterAll(() => dirs.removeAll());

const COMMANDS = [
  [],
  ['admin'],
  ['admin', 'reset'],
  ['admin', 'unlock'],
  ['admin', 'authenticators'],
  ['admin', 'policy'],
  ['audit'],
  ['audit', 'events'],
  ['audit', 'state'],
  ['audit', 'verify'],
  ['projections'],
  ['projections', 'status'],
  ['projections', 'rebuild'],
];

describe('twofactor usage', () => {
  it.each(COMMANDS.map((words) => [words.join(' ') || '(top level)', words] as const))(
    '%s --help prints usage on stdout and exits 0, without touching any store',
    async (_label, words) => {
      // No DATA_DIR given and none needed: help never reads the configuration.
      const run = await runTwofactor([...words, '--help'], {});
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: twofactor${words.map((w) => ` ${w}`).join('')} `));
      expect(run.stderr).toBe('');
    },
  );

  it('shows examples in the help of commands', async () => {
    const run = await runTwofactor(['admin', 'reset', '--help'], {});
    expect(run.stdout).toMatch(/Examples:\n {2}\$ twofactor admin reset ada --reason/);
  });

  it.each([
    ['no command', []],
    ['an unknown command', ['bogus']],
    ['an unknown option', ['audit', 'verify', '--bogus']],
    ['a missing argument', ['admin', 'unlock', '--actor', 'root']],
    ['an invalid user id', ['admin', 'unlock', 'ada/../bob', '--actor', 'root']],
    ['an invalid actor id', ['admin', 'unlock', 'ada', '--actor', 'Root Admin']],
    ['an invalid user id to list the apps of', ['admin', 'authenticators', 'ada/../bob']],
    ['an empty reason', ['admin', 'reset', 'ada', '--reason', ' ', '--actor', 'root']],
    ['an invalid position', ['audit', 'events', '--after', '12abc']],
    ['an unknown format', ['audit', 'events', '--format', 'xml']],
    ['--since after --until', ['audit', 'events', '--since', '2026-02-01', '--until', '2026-01-01']],
    ['an extra argument', ['audit', 'verify', 'now']],
  ])('%s is a usage error: exit 2 and a message on stderr, nothing on stdout', async (_label, args) => {
    const dataDir = await dirs.make();
    const run = await runTwofactor(args, serviceEnvironment(dataDir));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.length).toBeGreaterThan(0);
    expect(run.stdout).toBe('');
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(false);
  });

  it('reports a configuration error with exit 1', async () => {
    const run = await runTwofactor(['audit', 'verify'], { DATA_DIR: await dirs.make(), PORT: 'not-a-port' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^twofactor: invalid configuration: PORT/);
  });

  it('refuses to create an event store where there is none (exit 1), naming the path', async () => {
    const dataDir = await dirs.make();
    for (const args of [
      ['audit', 'verify'],
      ['admin', 'policy'],
    ]) {
      const run = await runTwofactor(args, serviceEnvironment(dataDir));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`no event store at ${join(dataDir, 'events.sqlite')}`);
    }
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(false);
  });

  it('reports an unreachable EventStoreDB with exit 4', async () => {
    // Port 1 on the loopback: refused at once, so the client gives up without a long wait.
    const run = await runTwofactor(['audit', 'verify'], {
      DATA_DIR: await dirs.make(),
      EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false',
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^twofactor: the event store is unavailable/);
  });
});
