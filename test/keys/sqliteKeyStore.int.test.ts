import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createInMemoryKeyStore } from '../../src/keys/keyStore.ts';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { describeKeyStoreContract } from './keyStoreContract.ts';

const dir = mkdtempSync(join(tmpdir(), 'key-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One file for the whole suite, reopened by each test: what one test leaves must not confuse the next.
describeKeyStoreContract('SQLite', async () => openSqliteKeyStore(dir));
describeKeyStoreContract('in memory', async () => createInMemoryKeyStore());
