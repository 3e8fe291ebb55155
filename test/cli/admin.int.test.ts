import { describe, expect, it } from 'vitest';
import { readMetadata } from '../../src/audit/storedMetadata.ts';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { openPersonalFields, sealedPersonalFieldsOf } from '../../src/keys/personalFields.ts';
import { recordedDataDirs } from '../support/cliFixture.ts';
import { runTwofactor } from '../support/cliProcess.ts';
import { openRuntime } from '../support/recordedHistory.ts';

const recorded = recordedDataDirs('cli-admin');
const { stoppedService } = recorded;

/** What a freshly started service would see: a new runtime over the same DATA_DIR. */
async function inspect<T>(
  dataDir: string,
  look: (runtime: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>,
) {
  const runtime = await openRuntime(dataDir);
  try {
    return await look(runtime);
  } finally {
    await runtime.close();
  }
}

/** A stream's events, their metadata read as the service reads it (whatever version stored it). */
async function streamEvents(dataDir: string, streamName: string): Promise<RecordedEvent[]> {
  return inspect(dataDir, async ({ store }) => {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(streamName)) {
      events.push({ ...event, metadata: readMetadata(event.metadata) });
    }
    return events;
  });
}

const correlationIdIn = (stderr: string) =>
  /correlation id ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(stderr)?.[1];

describe('twofactor admin', () => {
  it("reset disables an enabled user's 2FA and records who did it, why, and under which correlation id", async () => {
    const { dataDir, env } = await stoppedService();
    expect(await inspect(dataDir, ({ service }) => service.status('ada'))).toMatchObject({
      status: 'enabled',
    });

    const run = await runTwofactor(
      ['admin', 'reset', 'ada', '--reason', 'lost phone, ticket 4711', '--actor', 'root'],
      env,
    );

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('ada: two-factor authentication reset (was enabled, now disabled)\n');
    const correlationId = correlationIdIn(run.stderr);
    expect(correlationId).toBeDefined();
    expect(await inspect(dataDir, ({ service }) => service.status('ada'))).toMatchObject({
      status: 'disabled',
      recoveryCodesRemaining: 0,
    });
    const last = (await streamEvents(dataDir, 'two-factor-ada')).at(-1)!;
    expect(last.type).toBe('AdminReset');
    expect(last.data).toMatchObject({ previousStatus: 'enabled' });
    expect(last.metadata).toMatchObject({ actor: { role: 'cli', id: 'root' }, correlationId });
    // The reason may speak of the person: it is sealed with their data key, like their addresses.
    expect(JSON.stringify({ data: last.data, metadata: last.metadata })).not.toContain('lost phone');
    const opened = await inspect(dataDir, ({ keys }) =>
      openPersonalFields(sealedPersonalFieldsOf(last.metadata)!, keys.forUser('ada')),
    );
    expect(opened?.data).toEqual({ reason: 'lost phone, ticket 4711' });
  });

  it('gives each invocation its own correlation id', async () => {
    const { env } = await stoppedService();
    const first = await runTwofactor(['admin', 'reset', 'nobody', '--reason', 'r', '--actor', 'root'], env);
    const second = await runTwofactor(['admin', 'reset', 'nobody', '--reason', 'r', '--actor', 'root'], env);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    expect(correlationIdIn(first.stderr)).not.toBe(correlationIdIn(second.stderr));
  });

  it('unlock clears a lockout that waits for an administrator', async () => {
    const { dataDir, env } = await stoppedService();
    expect(await inspect(dataDir, ({ service }) => service.status('bob'))).toMatchObject({
      locked: true,
      lockedUntil: null,
    });

    const run = await runTwofactor(['admin', 'unlock', 'bob', '--actor', 'root', '--json'], env);

    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ userId: 'bob', status: 'enabled', locked: false });
    expect(await inspect(dataDir, ({ service }) => service.status('bob'))).toMatchObject({ locked: false });
    const last = (await streamEvents(dataDir, 'two-factor-bob')).at(-1)!;
    expect(last).toMatchObject({ type: 'LockoutCleared', metadata: { actor: { role: 'cli', id: 'root' } } });
  });

  it("authenticators lists a user's apps by name, id, when added and last used, and records nothing", async () => {
    const { dataDir, env } = await stoppedService();
    const before = await streamEvents(dataDir, 'two-factor-ada');

    const text = await runTwofactor(['admin', 'authenticators', 'ada'], env);
    const asJson = await runTwofactor(['admin', 'authenticators', 'ada', '--json'], env);

    expect(text.code, text.stderr).toBe(0);
    const isoTime = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    // ada enrolled one app (no name given: the default) and signed in with it.
    expect(text.stdout).toMatch(
      new RegExp(
        `^ada: 1 authenticator app\\nNAME +ID +ADDED +LAST USED\\nAuthenticator app +auth_[A-Za-z0-9]+ +${isoTime} +${isoTime}\\n$`,
      ),
    );
    expect(asJson.code, asJson.stderr).toBe(0);
    const { authenticators } = JSON.parse(asJson.stdout);
    expect(authenticators).toEqual([
      {
        id: expect.stringMatching(/^auth_[A-Za-z0-9]{1,32}$/),
        name: 'Authenticator app',
        addedAt: expect.any(String),
        lastUsedAt: expect.any(String),
      },
    ]);
    expect(text.stdout).toContain(`  ${authenticators[0].id}  ${authenticators[0].addedAt}  `);
    for (const secret of recorded.history.secrets) {
      expect(text.stdout).not.toContain(secret);
      expect(asJson.stdout).not.toContain(secret);
    }
    // bob's app never proved anything after its confirmation.
    const bob = await runTwofactor(['admin', 'authenticators', 'bob', '--json'], env);
    expect(JSON.parse(bob.stdout).authenticators).toMatchObject([{ lastUsedAt: null }]);
    // A user without 2FA has none; looking records nothing.
    const nobody = await runTwofactor(['admin', 'authenticators', 'nobody'], env);
    expect(nobody.code, nobody.stderr).toBe(0);
    expect(nobody.stdout).toBe('nobody: no authenticator app (two-factor authentication is off)\n');
    expect(await streamEvents(dataDir, 'two-factor-ada')).toHaveLength(before.length);
  });

  it('shows the policy, changes it with an actor, and shows the change', async () => {
    const { dataDir, env } = await stoppedService();

    const shown = await runTwofactor(['admin', 'policy'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toBe('require two-factor authentication for all users: no\nnever changed\n');

    const changed = await runTwofactor(['admin', 'policy', '--require', '--actor', 'root'], env);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^require two-factor authentication for all users: yes \(was no\)\n/);
    expect(correlationIdIn(changed.stderr)).toBeDefined();
    expect(await inspect(dataDir, ({ service }) => service.policy())).toMatchObject({
      requireTwoFactor: true,
      updatedBy: 'root',
    });

    const json = await runTwofactor(['admin', 'policy', '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ requireTwoFactor: true, updatedBy: 'root' });

    const lifted = await runTwofactor(['admin', 'policy', '--no-require', '--actor', 'root'], env);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(await inspect(dataDir, ({ service }) => service.policy())).toMatchObject({
      requireTwoFactor: false,
    });
  });

  it('refuses an admin command without --actor, and changes nothing', async () => {
    const { dataDir, env } = await stoppedService();
    const before = await streamEvents(dataDir, 'two-factor-ada');

    const reset = await runTwofactor(['admin', 'reset', 'ada', '--reason', 'r'], env);
    const unlock = await runTwofactor(['admin', 'unlock', 'bob'], env);
    const policy = await runTwofactor(['admin', 'policy', '--require'], env);

    for (const run of [reset, unlock, policy]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--actor <id>/);
      expect(run.stdout).toBe('');
    }
    expect(await streamEvents(dataDir, 'two-factor-ada')).toHaveLength(before.length);
    expect(await inspect(dataDir, ({ service }) => service.policy())).toMatchObject({
      requireTwoFactor: false,
    });
  });

  it('works in development without configured keys, keeping stdout to the result', async () => {
    // Keys come from the files under DATA_DIR then, and the warnings about it go to stderr.
    const { dataDir } = await stoppedService();
    const run = await runTwofactor(['admin', 'policy', '--json'], { DATA_DIR: dataDir });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      requireTwoFactor: false,
      gracePeriodHours: 0,
      requiredSince: null,
      updatedAt: null,
      updatedBy: null,
    });
  });
});
