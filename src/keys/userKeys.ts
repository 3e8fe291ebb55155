import { randomBytes, randomUUID } from 'node:crypto';
import { openBytes, sealBytes } from '../crypto/aesGcm.ts';
import { createPepperRing, derivePepperKey, type PepperRing, pepperWith } from '../crypto/pepper.ts';
import {
  createSecretBox,
  type EncryptionKey,
  KeyUnavailableError,
  openSecret,
  SecretBoxError,
  sealSecret,
} from '../crypto/secretBox.ts';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import type { KeyStore, WrappedDataKey } from './keyStore.ts';
import { decodePersonalPlaintext, encodePersonalPlaintext } from './personalPlaintext.ts';

/**
 * Key ids of values sealed with a user's data key start with this; instance key ids cannot
 * (`SECRET_ENCRYPTION_KEYS` ids are `[A-Za-z0-9._-]`), so the id alone says which kind opens it.
 */
export const DATA_KEY_PREFIX = 'dk:';

export const isDataKeyId = (keyId: string): boolean => keyId.startsWith(DATA_KEY_PREFIX);

/**
 * The data key a value was sealed with is gone: the user was erased (its key destroyed), so
 * what it sealed is unreadable by design. The id names the data key, never a key.
 */
export class DataKeyErasedError extends KeyUnavailableError {
  constructor(keyId: string) {
    super(keyId, `data key ${keyId} was destroyed: the user's data was erased`);
  }
}

/** A user's key material for one command: the data key is read once, made on first need. */
export type UserKeyring = {
  /** seals a new TOTP secret under the user's data key, making that key if the user has none */
  seal(plaintext: string): Promise<EncryptedSecret>;
  /** opens a secret sealed with the user's data key, or (written before data keys) an instance key */
  open(sealed: EncryptedSecret): Promise<string>;
  /**
   * The peppers for the user's recovery codes: new sets are peppered with the data key
   * (`create` makes it if missing); sets issued before data keys with their instance key.
   */
  peppers(options: { readonly create: boolean }): Promise<PepperRing>;
  /**
   * Seals the personal fields of an event (JSON) under the user's data key, making it if
   * needed; with `create: false`, null when the user has none.
   */
  sealPersonal(
    value: Readonly<Record<string, unknown>>,
    options?: { readonly create: boolean },
  ): Promise<EncryptedSecret | null>;
  /** the personal fields, or null when the data key that sealed them was destroyed */
  openPersonal(sealed: EncryptedSecret): Promise<Record<string, unknown> | null>;
};

export type RotationProgress = {
  readonly examined: number;
  readonly rewrapped: number;
  /** wrapped by a key this ring does not hold (or not the key its id names): left as they are */
  readonly unusable: number;
};

export type UserKeys = {
  forUser(userId: string): UserKeyring;
  /** destroys the user's data key: whatever it sealed can never be opened again */
  erase(userId: string): Promise<boolean>;
  /**
   * Re-wraps every data key that the sealing instance key (the first of the ring) does not
   * wrap yet. Each re-wrap is one compare-and-set, so it is safe beside a running service and
   * safe to stop at any point: a second run takes up what the first left.
   */
  rotate(options?: {
    readonly signal?: AbortSignal;
    readonly onProgress?: (progress: RotationProgress) => void;
  }): Promise<RotationProgress>;
  /** how many data keys each instance key wraps, and how many of those this ring can unwrap */
  census(): Promise<ReadonlyMap<string, { readonly dataKeys: number; readonly usable: number }>>;
  readonly store: KeyStore;
};

const DATA_KEY_BYTES = 32;

const wrapAad = (wrappingKeyId: string, userId: string, dataKeyId: string): Buffer =>
  Buffer.from(`two-factor-data-key\u0000${wrappingKeyId}\u0000${userId}\u0000${dataKeyId}`, 'utf8');

const personalAad = (keyId: string, userId: string): Buffer =>
  Buffer.from(`two-factor-personal\u0000${keyId}\u0000${userId}`, 'utf8');

function wrap(instanceKey: EncryptionKey, userId: string, dataKeyId: string, dataKey: Buffer): string {
  const { nonce, ciphertext, tag } = sealBytes(
    instanceKey.key,
    dataKey,
    wrapAad(instanceKey.id, userId, dataKeyId),
  );
  return Buffer.concat([nonce, ciphertext, tag]).toString('base64');
}

/**
 * Data keys wrapped by the instance key ring, kept in `store`. Without a ring (the command
 * line run without SECRET_ENCRYPTION_KEYS) anything that needs a key fails plainly, but
 * erasure still works: destroying a key needs no key.
 */
export function createUserKeys(store: KeyStore, ring: readonly EncryptionKey[] | null): UserKeys {
  const instanceKeys = new Map((ring ?? []).map((key) => [key.id, key]));
  const sealing = ring?.[0];
  const legacy = ring && ring.length > 0 ? createSecretBox(ring) : null;
  const legacyPeppers = ring && ring.length > 0 ? createPepperRing(ring) : null;
  const noKeys = (): never => {
    throw new SecretBoxError('no secret encryption keys: set SECRET_ENCRYPTION_KEYS');
  };

  function unwrap(record: WrappedDataKey): Buffer {
    const instanceKey = instanceKeys.get(record.wrappingKeyId);
    if (instanceKey === undefined) throw new KeyUnavailableError(record.wrappingKeyId);
    const bytes = Buffer.from(record.wrapped, 'base64');
    try {
      return openBytes(
        instanceKey.key,
        { nonce: bytes.subarray(0, 12), ciphertext: bytes.subarray(12, -16), tag: bytes.subarray(-16) },
        wrapAad(record.wrappingKeyId, record.userId, record.dataKeyId),
      );
    } catch (cause) {
      throw new KeyUnavailableError(
        record.wrappingKeyId,
        `the data key wrapped with key ${record.wrappingKeyId} does not open for this user`,
        { cause },
      );
    }
  }

  function forUser(userId: string): UserKeyring {
    type DataKey = { readonly id: string; readonly key: Buffer };
    let loaded: Promise<DataKey | null> | undefined;
    const unwrapped = (record: WrappedDataKey | null): DataKey | null =>
      record === null ? null : { id: `${DATA_KEY_PREFIX}${record.dataKeyId}`, key: unwrap(record) };
    const existing = () => {
      loaded ??= store.get(userId).then(unwrapped);
      return loaded;
    };
    const made = async (): Promise<DataKey> => {
      const found = await existing();
      if (found) return found;
      if (sealing === undefined) return noKeys();
      const dataKeyId = randomUUID();
      const dataKey = randomBytes(DATA_KEY_BYTES);
      const kept = await store.create({
        userId,
        dataKeyId,
        wrappingKeyId: sealing.id,
        wrapped: wrap(sealing, userId, dataKeyId, dataKey),
        createdAt: new Date().toISOString(),
      });
      const result = unwrapped(kept) as DataKey;
      loaded = Promise.resolve(result);
      return result;
    };
    /** the user's data key named by `keyId`: a key destroyed (or replaced after erasure) is erased */
    const named = async (keyId: string): Promise<DataKey> => {
      const found = await existing();
      if (found === null || found.id !== keyId) throw new DataKeyErasedError(keyId);
      return found;
    };
    return {
      async seal(plaintext) {
        return sealSecret(await made(), plaintext, userId);
      },
      async open(sealed) {
        if (!isDataKeyId(sealed.keyId)) return (legacy ?? { open: noKeys }).open(sealed, userId);
        const { key } = await named(sealed.keyId);
        try {
          return openSecret(key, sealed, userId);
        } catch (cause) {
          throw new KeyUnavailableError(
            sealed.keyId,
            `the secret sealed with ${sealed.keyId} does not open`,
            {
              cause,
            },
          );
        }
      },
      async peppers({ create }) {
        const own = create ? await made() : await existing();
        const ownPepper = own ? derivePepperKey(own.key) : null;
        return {
          currentKeyId: own?.id ?? legacyPeppers?.currentKeyId ?? noKeys(),
          pepper(canonicalCode, keyId) {
            if (!isDataKeyId(keyId))
              return (legacyPeppers ?? { pepper: noKeys }).pepper(canonicalCode, keyId);
            if (own?.id !== keyId || ownPepper === null) throw new DataKeyErasedError(keyId);
            return pepperWith(ownPepper, canonicalCode);
          },
        };
      },
      async sealPersonal(value, { create } = { create: true }) {
        const key = create ? await made() : await existing();
        if (key === null) return null;
        const sealed = sealBytes(key.key, encodePersonalPlaintext(value), personalAad(key.id, userId));
        return {
          keyId: key.id,
          nonce: sealed.nonce.toString('base64'),
          ciphertext: sealed.ciphertext.toString('base64'),
          tag: sealed.tag.toString('base64'),
        };
      },
      async openPersonal(sealed) {
        const found = await existing();
        if (found === null || found.id !== sealed.keyId) return null;
        let plaintext: Buffer;
        try {
          plaintext = openBytes(
            found.key,
            {
              nonce: Buffer.from(sealed.nonce, 'base64'),
              ciphertext: Buffer.from(sealed.ciphertext, 'base64'),
              tag: Buffer.from(sealed.tag, 'base64'),
            },
            personalAad(sealed.keyId, userId),
          );
        } catch (cause) {
          throw new KeyUnavailableError(
            sealed.keyId,
            `personal data sealed with ${sealed.keyId} does not open`,
            {
              cause,
            },
          );
        }
        return decodePersonalPlaintext(plaintext);
      },
    };
  }

  return {
    forUser,
    erase: (userId) => store.destroy(userId),
    async rotate(options = {}) {
      if (sealing === undefined) return noKeys();
      let examined = 0;
      let rewrapped = 0;
      let unusable = 0;
      for await (const record of store.all()) {
        if (options.signal?.aborted) break;
        examined++;
        if (record.wrappingKeyId !== sealing.id) {
          let dataKey: Buffer | null = null;
          try {
            dataKey = unwrap(record);
          } catch (error) {
            if (!(error instanceof KeyUnavailableError)) throw error;
            unusable++;
          }
          if (dataKey !== null) {
            const done = await store.rewrap(record.userId, record.dataKeyId, record.wrappingKeyId, {
              wrappingKeyId: sealing.id,
              wrapped: wrap(sealing, record.userId, record.dataKeyId, dataKey),
            });
            if (done) rewrapped++;
          }
        }
        options.onProgress?.({ examined, rewrapped, unusable });
      }
      return { examined, rewrapped, unusable };
    },
    async census() {
      const counts = new Map<string, { dataKeys: number; usable: number }>();
      for await (const record of store.all()) {
        const count = counts.get(record.wrappingKeyId) ?? { dataKeys: 0, usable: 0 };
        count.dataKeys++;
        try {
          unwrap(record);
          count.usable++;
        } catch {
          // counted as not usable: the key is missing, or is not the one its id names
        }
        counts.set(record.wrappingKeyId, count);
      }
      return counts;
    },
    store,
  };
}
