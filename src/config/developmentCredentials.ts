import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncryptionKey } from '../crypto/secretBox.ts';
import { type ApiKey, formatApiKeys, parseApiKeys, ROLES } from './apiKeys.ts';
import { formatEncryptionKeys, parseEncryptionKeys } from './encryptionKeys.ts';

export const API_KEYS_FILE = 'api-keys';
export const ENCRYPTION_KEYS_FILE = 'secret-encryption-keys';

/**
 * Development only: keys that were not configured are generated once and kept under
 * DATA_DIR (mode 0600), in the same format as the variables, so a restart finds them again
 * and `export API_KEYS=$(cat data/api-keys)` works. With `create: false` (the command line)
 * only files that already exist are read: a tool must never mint keys a service would then
 * adopt. Returns the files it used, never keys.
 */
export function loadOrCreateDevelopmentCredentials(
  dataDir: string,
  { create = true }: { readonly create?: boolean } = {},
): {
  readonly apiKeys: readonly ApiKey[] | null;
  readonly encryptionKeys: readonly EncryptionKey[] | null;
  readonly files: { readonly apiKeys: string; readonly encryptionKeys: string };
} {
  if (create) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const apiKeysFile = join(dataDir, API_KEYS_FILE);
  const encryptionKeysFile = join(dataDir, ENCRYPTION_KEYS_FILE);
  const readOrCreate = <T>(file: string, generate: () => string, parse: (v: string) => T): T | null => {
    if (!existsSync(file)) {
      if (!create) return null;
      writeFileSync(file, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    }
    return parse(readFileSync(file, 'utf8').trim());
  };
  const apiKeys = readOrCreate(
    apiKeysFile,
    () => formatApiKeys(ROLES.map((role) => ({ role, key: randomBytes(24).toString('base64url') }))),
    parseApiKeys,
  );
  const encryptionKeys = readOrCreate(
    encryptionKeysFile,
    () => formatEncryptionKeys([{ id: `dev-${Date.now().toString(36)}`, key: randomBytes(32) }]),
    parseEncryptionKeys,
  );
  return { apiKeys, encryptionKeys, files: { apiKeys: apiKeysFile, encryptionKeys: encryptionKeysFile } };
}
