import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from './eventStore/eventStore.ts';
import { DATA_KEY_PREFIX, isDataKeyId } from './keys/userKeys.ts';

/** Where the users found in the log's first events are kept between starts. */
export const KEY_CHECK_SAMPLE_FILE = 'key-check-sample.json';

type Saved = { readonly firstEventId: string; readonly window: number; readonly users: readonly string[] };

/** One user for each key id that secrets or recovery codes in the log's first `window` events used. */
async function scan(store: EventStore, window: number): Promise<{ users: string[]; read: number }> {
  const byKey = new Map<string, string>();
  let read = 0;
  for await (const event of store.readAll({ maxCount: window })) {
    read++;
    const data = event.data as {
      userId?: unknown;
      secret?: { keyId?: unknown };
      recoveryCodes?: { pepperKeyId?: unknown };
    };
    if (typeof data.userId !== 'string') continue;
    for (const keyId of [data.secret?.keyId, data.recoveryCodes?.pepperKeyId]) {
      if (typeof keyId !== 'string') continue;
      // Data key ids are one per user: one such user stands for them all.
      const bucket = isDataKeyId(keyId) ? DATA_KEY_PREFIX : keyId;
      if (!byKey.has(bucket)) byKey.set(bucket, data.userId);
    }
  }
  return { users: [...byKey.values()], read };
}

async function firstEventId(store: EventStore): Promise<string | null> {
  for await (const event of store.readAll({ maxCount: 1 })) return event.id;
  return null;
}

function readSaved(file: string): Saved | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Saved;
  } catch {
    return null;
  }
}

/**
 * The users of the start-up key check that the log names: one per key id among its first
 * `window` events. Those events never change (the log only grows), so once the log holds a
 * full window the answer is kept in `dataDir` and read back at the next start, instead of
 * reading and parsing thousands of events again, which was a third of a start. A kept answer
 * that names another log's first event (the store was replaced or restored) is not used.
 */
export async function usersByKeyIdInLog(
  store: EventStore,
  dataDir: string,
  window: number,
): Promise<string[]> {
  const file = join(dataDir, KEY_CHECK_SAMPLE_FILE);
  const first = await firstEventId(store);
  if (first === null) return [];
  const saved = readSaved(file);
  if (
    saved !== null &&
    saved.firstEventId === first &&
    saved.window === window &&
    Array.isArray(saved.users)
  ) {
    return [...saved.users];
  }
  const { users, read } = await scan(store, window);
  if (read === window) {
    const document: Saved = { firstEventId: first, window, users };
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(document));
      renameSync(`${file}.tmp`, file);
    } catch {
      // Not kept: the next start reads the events again, which costs time and nothing else.
    }
  }
  return users;
}
