import { describe, expect, it } from 'vitest';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { ndjson, runTwofactor } from '../support/cliProcess.ts';

const { stoppedService } = recordedDataDirs('cli-projections');

type Status = { name: string; version: number; position: string };

async function statuses(env: Record<string, string>): Promise<Status[]> {
  const run = await runTwofactor(['projections', 'status', '--json'], env);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

describe('twofactor projections', () => {
  it('rebuilds every projection up to the end of the log, and status shows where each stands', async () => {
    const { env } = await stoppedService();
    const lastPosition = ndjson((await runTwofactor(['audit', 'events'], env)).stdout).at(-1).position;

    const rebuilt = await runTwofactor(['projections', 'rebuild'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt .+: \d+ events applied\n$/);

    const after = await statuses(env);
    expect(after.length).toBeGreaterThan(0);
    for (const status of after) expect(status.position).toBe(lastPosition);

    const table = await runTwofactor(['projections', 'status'], env);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+VERSION\s+POSITION\s+BEHIND\n/);
    for (const { name } of after)
      expect(table.stdout).toMatch(new RegExp(`^${name}\\s+\\d+\\s+${lastPosition}\\b`, 'm'));
  });

  it('rebuilds one projection by name', async () => {
    const { env } = await stoppedService();
    const [first] = await statuses(env);
    const run = await runTwofactor(['projections', 'rebuild', first!.name], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^rebuilt ${first!.name}: \\d+ events applied\\n$`));
  });

  it('refuses an unknown projection, naming the known ones', async () => {
    const { env } = await stoppedService();
    const names = (await statuses(env)).map((s) => s.name);
    const run = await runTwofactor(['projections', 'rebuild', 'no-such-projection'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`unknown projection 'no-such-projection'; known: ${names.join(', ')}`);
    expect(run.stdout).toBe('');
  });
});
