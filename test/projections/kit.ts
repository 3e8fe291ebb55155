import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pino from 'pino';
import { spawnTsx } from '../support/tsxChild.ts';

/** Every table of a read-model file, every row, in a fixed order: for row-by-row comparison. */
export function dumpTables(file: string, tables?: readonly string[]): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names =
      tables ??
      db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all()
        .map((row) => row.name);
    const dump: Record<string, unknown[]> = {};
    for (const name of names) {
      const statement = db.prepare(`SELECT * FROM "${name}"`).safeIntegers(true);
      const columns = statement.columns().map((column) => `"${column.name}"`);
      dump[name] = db
        .prepare(`SELECT * FROM "${name}" ORDER BY ${columns.join(', ')}`)
        .safeIntegers(true)
        .all();
    }
    return dump;
  } finally {
    db.close();
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a fixture of `./fixtures` in its own Node process through tsx, as the service runs. */
export const spawnFixture = (fixture: string, args: readonly string[]) =>
  spawnTsx(fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url)), args);

/** A pino logger whose lines the test reads. */
export function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.length > 0) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}
