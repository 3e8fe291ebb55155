import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { type HeadsDocument, MalformedHeadsError, parseHeads } from '../audit/streamHeads.ts';
import { CliError, EXIT, usageError } from './exitCodes.ts';
import { printable } from './lineOutput.ts';

const codeOf = (error: unknown): string =>
  (error as NodeJS.ErrnoException | null)?.code ?? (error instanceof Error ? error.message : String(error));

/**
 * `--against <file>`: read and check before the store is opened, so a wrong path or a file
 * that is no heads document is a usage error (exit 2) and nothing is read from the store.
 */
export function readHeadsFile(file: string): HeadsDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw usageError(`cannot read the heads file ${printable(file)} (${codeOf(error)})`);
  }
  try {
    return parseHeads(text);
  } catch (error) {
    if (!(error instanceof MalformedHeadsError)) throw error;
    throw usageError(`${printable(file)} is not a heads document: ${printable(error.message)}`);
  }
}

const refusal = (file: string) =>
  new CliError(
    `refusing to overwrite ${printable(file)}: it exists (add --force to replace it)`,
    EXIT.failure,
  );

/** Checked before the walk too, so a long verify does not end in a refusal. */
export function refuseExisting(file: string): void {
  // lstat: a dangling symlink counts as existing; the exclusive create would refuse it anyway.
  if (lstatSync(file, { throwIfNoEntry: false }) !== undefined) throw refusal(file);
}

/** A new file, readable by its owner only, its bytes on disk before it is reported written. */
function writeNew(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `--save-heads <file>`: never overwrites unless `force`. With `force` the document is
 * written beside the file and renamed over it, so the replacement is whole and mode 0600
 * whatever the old file's mode was, and a failure leaves the old file as it was.
 */
export function writeHeadsFile(file: string, text: string, options: { readonly force: boolean }): void {
  try {
    if (!options.force) {
      writeNew(file, text);
      return;
    }
    const temporary = `${file}.${process.pid}.tmp`;
    writeNew(temporary, text);
    try {
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  } catch (error) {
    if (codeOf(error) === 'EEXIST' && !options.force) throw refusal(file);
    throw new CliError(`cannot write the heads file ${printable(file)} (${codeOf(error)})`, EXIT.failure);
  }
}
