import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENTSTORE_IMAGE } from '../support/eventStoreDb.ts';

/*
 * docker-compose.yml's EventStoreDB service, checked without a container engine: its image
 * and settings by reading the file, its healthcheck by running the very command against an
 * HTTP server that answers like KurrentDB does before and after it is leader.
 */

const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');

/** The lines of the `eventstore:` service, up to the next service. */
function serviceBlock(name: string): string[] {
  const lines = compose.split('\n');
  const start = lines.indexOf(`  ${name}:`);
  if (start === -1) throw new Error(`no service ${name} in docker-compose.yml`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^ {2}\S/.test(line) || /^\S/.test(line));
  return end === -1 ? rest : rest.slice(0, end);
}

const eventstore = serviceBlock('eventstore');

function healthcheckCommand(): string {
  const line = eventstore.find((entry) => entry.trim().startsWith('test:'));
  if (line === undefined) throw new Error('the eventstore service has no healthcheck');
  const parsed = JSON.parse(line.trim().slice('test:'.length).trim()) as string[];
  expect(parsed[0]).toBe('CMD-SHELL');
  return parsed[1]!;
}

describe('docker-compose.yml: the EventStoreDB service', () => {
  it('runs the image KurrentDB publishes, the same the container-backed tests use', () => {
    const image = eventstore
      .find((line) => line.trim().startsWith('image:'))
      ?.trim()
      .slice('image:'.length)
      .trim();
    expect(image).toBe(EVENTSTORE_IMAGE);
    expect(image).toMatch(/^kurrentplatform\/kurrentdb:\d+\.\d+$/);
  });

  it('configures it with the KURRENTDB_ variables that image reads', () => {
    const start = eventstore.findIndex((line) => line.trim() === 'environment:');
    const variables = eventstore
      .slice(start + 1)
      .filter((line) => /^ {6}[A-Z0-9_]+:/.test(line))
      .map((line) => line.trim().split(':')[0]);
    expect(variables).toEqual([
      'KURRENTDB_CLUSTER_SIZE',
      'KURRENTDB_RUN_PROJECTIONS',
      'KURRENTDB_START_STANDARD_PROJECTIONS',
      'KURRENTDB_INSECURE',
    ]);
  });
});

describe("docker-compose.yml: the EventStoreDB service's healthcheck", () => {
  let server: http.Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A stand-in for the node's HTTP side: /health/live answers at once, /info names the state. */
  async function nodeIn(state: string): Promise<number> {
    server = http.createServer((request, response) => {
      if (request.url === '/health/live') {
        response.writeHead(204).end();
      } else if (request.url === '/info') {
        // KurrentDB's InfoController: indented JSON with the node's state in lower case.
        const body = JSON.stringify(
          { esVersion: '25.0.1', state, features: {}, authentication: {} },
          null,
          2,
        );
        response.writeHead(200, { 'content-type': 'application/json' }).end(body);
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return (server!.address() as AddressInfo).port;
  }

  const run = (command: string, port: number) =>
    new Promise<number>((resolve) => {
      const local = command.replaceAll('localhost:2113', `127.0.0.1:${port}`);
      expect(local).not.toBe(command);
      execFile('sh', ['-c', local], { timeout: 10_000 }, (error) =>
        resolve(error ? (error.code as number) : 0),
      );
    });

  it('passes only once the node is leader, not as soon as HTTP answers', async () => {
    const command = healthcheckCommand();
    for (const state of ['initializing', 'discoverleader', 'preleader', 'follower', 'unknown']) {
      expect(await run(command, await nodeIn(state)), state).not.toBe(0);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
    expect(await run(command, await nodeIn('leader'))).toBe(0);
  });
});
