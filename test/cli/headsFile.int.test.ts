import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHeads } from '../../src/audit/streamHeads.ts';
import { CliError, EXIT } from '../../src/cli/exitCodes.ts';
import { readHeadsFile, refuseExisting, writeHeadsFile } from '../../src/cli/headsFile.ts';
import { tempDirs } from '../support/tempDirs.ts';

const dirs = tempDirs('heads-file');
// The command line runs with umask 077 once the store is open, which would hide a wrong
// mode; a permissive umask shows that the file's mode is the writer's own doing.
let umask: number;
beforeAll(() => {
  umask = process.umask(0o022);
});
afterAll(async () => {
  process.umask(umask);
  await dirs.removeAll();
});

const text = formatHeads({
  takenAt: '2026-01-31T12:00:00.000Z',
  position: 7n,
  streams: new Map([['two-factor-ada', { revision: 3n, hash: 'a'.repeat(64) }]]),
});

const failureOf = (act: () => unknown): CliError => {
  try {
    act();
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
};

describe('the heads file', () => {
  it('is written new with mode 0600 and read back', async () => {
    const file = join(await dirs.make(), 'heads.json');
    writeHeadsFile(file, text, { force: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readHeadsFile(file).streams.get('two-factor-ada')).toEqual({ revision: 3n, hash: 'a'.repeat(64) });
  });

  it('is never overwritten without force: an existing file or a symlink is refused (exit 1)', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'heads.json');
    writeFileSync(file, 'older heads');
    const link = join(dir, 'link.json');
    symlinkSync(join(dir, 'elsewhere.json'), link);
    for (const target of [file, link]) {
      expect(failureOf(() => refuseExisting(target))).toMatchObject({ exitCode: EXIT.failure });
      const refused = failureOf(() => writeHeadsFile(target, text, { force: false }));
      expect(refused).toMatchObject({
        exitCode: EXIT.failure,
        message: expect.stringMatching(/refusing to overwrite/),
      });
    }
    expect(readFileSync(file, 'utf8')).toBe('older heads');
    expect(existsSync(join(dir, 'elsewhere.json'))).toBe(false);
  });

  it('with force replaces the file whole, mode 0600 whatever the old mode, leaving no temporary file', async () => {
    const dir = await dirs.make();
    const file = join(dir, 'heads.json');
    writeFileSync(file, 'older heads');
    chmodSync(file, 0o666);
    writeHeadsFile(file, text, { force: true });
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['heads.json']);
  });

  it('reports a directory that does not exist as a failure to write (exit 1)', async () => {
    const file = join(await dirs.make(), 'no', 'heads.json');
    const failure = failureOf(() => writeHeadsFile(file, text, { force: false }));
    expect(failure).toMatchObject({
      exitCode: EXIT.failure,
      message: expect.stringMatching(/cannot write .* \(ENOENT\)/),
    });
  });

  it('is a usage error (exit 2) when unreadable or not a heads document', async () => {
    const dir = await dirs.make();
    expect(failureOf(() => readHeadsFile(join(dir, 'missing.json')))).toMatchObject({
      exitCode: EXIT.usage,
      message: expect.stringMatching(/cannot read the heads file .*missing\.json \(ENOENT\)/),
    });
    expect(failureOf(() => readHeadsFile(dir))).toMatchObject({
      exitCode: EXIT.usage,
      message: expect.stringMatching(/EISDIR/),
    });
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"format":"two-factor-heads/1"}');
    expect(failureOf(() => readHeadsFile(other))).toMatchObject({
      exitCode: EXIT.usage,
      message: expect.stringMatching(/other\.json is not a heads document: takenAt must be/),
    });
  });
});
