import { describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { policyDocument } from '../../src/http/schemas.ts';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { openRuntime } from '../support/recordedHistory.ts';
import { testClock } from '../support/testService.ts';

/* `twofactor admin policy --require --grace-hours`, and what the command line does under it. */

const { stoppedService } = recordedDataDirs('cli-require');

const HOUR = 3_600_000;

/** A runtime over the same DATA_DIR whose clock reads `nowMs` (the command line's is the wall clock). */
async function inspect<T>(
  dataDir: string,
  look: (runtime: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>,
  nowMs = Date.now(),
) {
  const runtime = await openRuntime(dataDir, testClock(nowMs));
  try {
    return await look(runtime);
  } finally {
    await runtime.close();
  }
}

const streamEvents = (dataDir: string, streamName: string) =>
  inspect(dataDir, async ({ store }) => {
    const events: RecordedEvent[] = [];
    // The metadata as every reader sees it (stored packed as version 2).
    for await (const event of store.readStream(streamName)) {
      events.push({ ...event, metadata: readMetadata(event.metadata) as RecordedEvent['metadata'] });
    }
    return events;
  });

describe('twofactor admin policy --grace-hours', () => {
  it('requires 2FA with a grace period, recorded like the HTTP PUT and printed as its answer', async () => {
    const { dataDir, env } = await stoppedService();

    const run = await runTwofactor(
      ['admin', 'policy', '--require', '--grace-hours', '72', '--actor', 'root'],
      env,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^require two-factor authentication for all users: yes \(was no\)\ngrace period: 72 hours \(was none \(set up at the next sign-in\)\); required since \d{4}-\d\d-\d\dT[\d:.]+Z\nlast changed .+ by root\n$/,
    );
    const policy = await inspect(dataDir, ({ service }) => service.policy());
    expect(policy).toMatchObject({ requireTwoFactor: true, gracePeriodHours: 72, updatedBy: 'root' });
    expect(policy.requiredSince).toBe(policy.updatedAt);
    const [changed] = await streamEvents(dataDir, 'policy-instance');
    expect(changed).toMatchObject({
      type: 'TwoFactorRequirementChanged',
      data: { requireTwoFactor: true, previous: false, gracePeriodHours: 72, previousGracePeriodHours: 0 },
      metadata: { schemaVersion: 2, actor: { role: 'cli', id: 'root' } },
    });

    // --json prints the document GET /v1/admin/policy answers, field for field.
    const json = await runTwofactor(['admin', 'policy', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout);
    expect(printed).toEqual(policy);
    expect(policyDocument.strict().parse(printed)).toEqual(printed);
  });

  it('a shorter grace continues the period: the start stays, the grace changes', async () => {
    const { dataDir, env } = await stoppedService();
    await runTwofactor(['admin', 'policy', '--require', '--grace-hours', '72', '--actor', 'root'], env);
    const before = await inspect(dataDir, ({ service }) => service.policy());

    const run = await runTwofactor(
      ['admin', 'policy', '--require', '--grace-hours', '24', '--actor', 'root'],
      env,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('grace period: 24 hours (was 72 hours)');
    const after = await inspect(dataDir, ({ service }) => service.policy());
    expect(after).toMatchObject({ gracePeriodHours: 24, requiredSince: before.requiredSince });
  });

  it('without --grace-hours the grace is 0, as the HTTP PUT without gracePeriodHours', async () => {
    const { dataDir, env } = await stoppedService();
    await runTwofactor(['admin', 'policy', '--require', '--grace-hours', '72', '--actor', 'root'], env);
    const run = await runTwofactor(['admin', 'policy', '--require', '--actor', 'root'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(await inspect(dataDir, ({ service }) => service.policy())).toMatchObject({ gracePeriodHours: 0 });
  });

  it.each([['8761'], ['1.5'], ['-1'], ['72h'], ['']])(
    'refuses --grace-hours %j as a usage error, and changes nothing',
    async (value) => {
      const { dataDir, env } = await stoppedService();
      const run = await runTwofactor(
        ['admin', 'policy', '--require', '--grace-hours', value, '--actor', 'root'],
        env,
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--grace-hours/);
      expect(run.stdout).toBe('');
      expect(await streamEvents(dataDir, 'policy-instance')).toEqual([]);
    },
  );

  it('refuses --grace-hours without --require', async () => {
    const { dataDir, env } = await stoppedService();
    const run = await runTwofactor(['admin', 'policy', '--grace-hours', '72', '--actor', 'root'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--grace-hours .*--require/);
    expect(await streamEvents(dataDir, 'policy-instance')).toEqual([]);
  });
});

describe('the command line under "require 2FA"', () => {
  it('an emergency reset of an enrolled user records a deadline without grace; a look at a user records none', async () => {
    const { dataDir, env } = await stoppedService();
    await runTwofactor(['admin', 'policy', '--require', '--grace-hours', '72', '--actor', 'root'], env);

    const ada = await runTwofactor(
      ['admin', 'reset', 'ada', '--reason', 'lost phone', '--actor', 'root'],
      env,
    );
    const nobody = await runTwofactor(
      ['admin', 'reset', 'nobody', '--reason', 'check', '--actor', 'root'],
      env,
    );

    expect(ada.code, ada.stderr).toBe(0);
    expect(nobody.code, nobody.stderr).toBe(0);
    const [reset, deadline] = (await streamEvents(dataDir, 'two-factor-ada')).slice(-2);
    expect(reset?.type).toBe('AdminReset');
    expect(deadline).toMatchObject({
      type: 'EnrollmentDeadlineRecorded',
      data: { seenThrough: 'reset', graceApplies: false, gracePeriodHours: 72, enrollBy: reset?.data.at },
      metadata: { actor: { role: 'cli', id: 'root' } },
    });
    // The reset of a user without 2FA, and the look the command takes before it, record no deadline.
    expect((await streamEvents(dataDir, 'two-factor-nobody')).map((event) => event.type)).toEqual([
      'AdminReset',
    ]);
  });

  it('audit state shows the deadline as it stood at each moment, a shortened grace included', async () => {
    const { dataDir, env } = await stoppedService();
    await runTwofactor(['admin', 'policy', '--require', '--grace-hours', '72', '--actor', 'root'], env);
    // The web tier reads carol's status at sign-in, a little later: her deadline is recorded.
    const seenAt = Date.now() + 1_000;
    const status = await inspect(dataDir, ({ service }) => service.status('carol'), seenAt);
    expect(status).toMatchObject({
      enrollmentRequired: true,
      enrollBy: new Date(seenAt + 72 * HOUR).toISOString(),
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, seenAt - Date.now() + 5)));
    await runTwofactor(['admin', 'policy', '--require', '--grace-hours', '24', '--actor', 'root'], env);
    const cutAt = Date.parse((await streamEvents(dataDir, 'policy-instance')).at(-1)!.data.at as string);

    const at = async (ms: number) => {
      const run = await runTwofactor(['audit', 'state', 'carol', '--at', new Date(ms).toISOString()], env);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout);
    };
    expect(await at(cutAt - 1)).toMatchObject({
      enrollmentRequired: true,
      enrollBy: new Date(seenAt + 72 * HOUR).toISOString(),
    });
    expect(await at(cutAt)).toMatchObject({
      enrollmentRequired: true,
      enrollBy: new Date(seenAt + 24 * HOUR).toISOString(),
    });
  });
});
