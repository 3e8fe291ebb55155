import { unpackPersonal } from '../audit/storedMetadata.ts';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import {
  compactSealed,
  openPersonalFields,
  type PersonalFields,
  parseCompactSealed,
  sealedPersonalFieldsOf,
} from '../keys/personalFields.ts';
import type { UserKeyring, UserKeys } from '../keys/userKeys.ts';

/** Keyrings kept per reader: one key-store read per user, bounded however long the export. */
const KEYRINGS_KEPT = 1_000;

/**
 * Opens the personal fields that read models keep sealed (they never hold them in plain
 * text), at the moment they are read: once a user's data key is destroyed, every read model
 * answers the fields as erased, with nothing to scrub. Null: erased.
 */
export type PersonalDataReader = (userId: string, sealed: EncryptedSecret) => Promise<PersonalFields | null>;

export function personalDataReader(keys: UserKeys): PersonalDataReader {
  const keyrings = new Map<string, UserKeyring>();
  return (userId, sealed) => {
    let keyring = keyrings.get(userId);
    if (keyring === undefined) {
      if (keyrings.size >= KEYRINGS_KEPT) keyrings.clear();
      keyring = keys.forUser(userId);
      keyrings.set(userId, keyring);
    }
    return openPersonalFields(sealed, keyring);
  };
}

/**
 * The sealed personal fields of a projected event as the read models keep them: one string —
 * the event's own packed form (metadata version 2) or `compactSealed` — or null when it has none.
 */
export function keptSealed(metadata: Readonly<Record<string, unknown>>): string | null {
  const { personal } = metadata;
  if (typeof personal === 'string') return personal;
  const sealed = sealedPersonalFieldsOf(metadata);
  return sealed === null ? null : compactSealed(sealed);
}

/** What `keptSealed` gave, as a sealed value to open; null for anything else. */
export function sealedOfKept(value: unknown): EncryptedSecret | null {
  if (typeof value !== 'string') return null;
  if (!value.startsWith('~')) return parseCompactSealed(value);
  try {
    return unpackPersonal(value);
  } catch {
    return null;
  }
}
