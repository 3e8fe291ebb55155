import { afterAll } from 'vitest';
import { createInMemoryKeyStore } from '../../src/keys/keyStore.ts';
import { openSqliteKeyStore } from '../../src/keys/sqliteKeyStore.ts';
import { tempDirs } from '../support/tempDirs.ts';
import { describeKeyStoreContract } from './keyStoreContract.ts';

const dirs = tempDirs('key-store');
const dir = dirs.makeSync();
afterAll(() => dirs.removeAll());

// One file for the whole suite, reopened by each test: what one test leaves must not confuse the next.
describeKeyStoreContract('SQLite', async () => openSqliteKeyStore(dir));
describeKeyStoreContract('in memory', async () => createInMemoryKeyStore());
