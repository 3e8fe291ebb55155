import type { AnyEvent } from '../domain/shared/message.ts';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import type { UserKeyring } from './userKeys.ts';

/** The metadata field that holds an event's personal fields, sealed with its user's data key. */
export const PERSONAL_KEY = 'personal';

/** What is personal data of the end user in every event's metadata. */
const PERSONAL_METADATA = ['endUserIp', 'endUserAgent'] as const;

/** …and in the data of some event types. */
const PERSONAL_DATA: Readonly<Record<string, readonly string[]>> = {
  RefusedAttemptsCounted: ['endUserIps'],
};

/** The personal fields of one event, as sealed: where each came from. */
export type PersonalFields = {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly data: Readonly<Record<string, unknown>>;
};

function take(
  from: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): { rest: Record<string, unknown>; taken: Record<string, unknown> } {
  const rest = { ...from };
  const taken: Record<string, unknown> = {};
  for (const field of fields) {
    if (rest[field] === undefined) continue;
    taken[field] = rest[field];
    delete rest[field];
  }
  return { rest, taken };
}

/**
 * The event as it is stored: its personal fields moved out of the data and metadata into
 * one value sealed with the user's data key, under `metadata.personal`. An event without
 * personal fields is returned as it is (and needs no data key). The hash chain is computed
 * over the sealed form, so erasing the key later leaves the chain intact.
 */
export async function sealPersonalFields<E extends AnyEvent>(event: E, keyring: UserKeyring): Promise<E> {
  const metadata = take(event.metadata as Readonly<Record<string, unknown>>, PERSONAL_METADATA);
  const data = take(event.data as Readonly<Record<string, unknown>>, PERSONAL_DATA[event.type] ?? []);
  if (Object.keys(metadata.taken).length === 0 && Object.keys(data.taken).length === 0) return event;
  const sealed = await keyring.sealPersonal({ metadata: metadata.taken, data: data.taken });
  return { ...event, data: data.rest, metadata: { ...metadata.rest, [PERSONAL_KEY]: sealed } } as E;
}

/**
 * Whether a stored event carries personal fields in plain text: written before data keys,
 * so out of an erasure's reach (events are never rewritten).
 */
export function hasPlaintextPersonalFields(event: {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}): boolean {
  const inMetadata = PERSONAL_METADATA.some(
    (field) => (event.metadata as Readonly<Record<string, unknown>>)[field] !== undefined,
  );
  const inData = (PERSONAL_DATA[event.type] ?? []).some((field) => {
    const value = (event.data as Readonly<Record<string, unknown>>)[field];
    return value !== undefined && !(Array.isArray(value) && value.length === 0);
  });
  return inMetadata || inData;
}

/** The sealed personal fields a stored event's metadata carries, if any. */
export function sealedPersonalFieldsOf(metadata: Readonly<Record<string, unknown>>): EncryptedSecret | null {
  const value = metadata[PERSONAL_KEY] as Partial<EncryptedSecret> | undefined;
  return typeof value?.keyId === 'string' &&
    typeof value.nonce === 'string' &&
    typeof value.ciphertext === 'string' &&
    typeof value.tag === 'string'
    ? (value as EncryptedSecret)
    : null;
}

/**
 * The sealed value as one opaque string (`keyId.nonce.ciphertext.tag`), as read models keep
 * it: they hold nothing to read without the user's data key.
 */
export const compactSealed = (sealed: EncryptedSecret): string =>
  [sealed.keyId, sealed.nonce, sealed.ciphertext, sealed.tag].join('.');

export function parseCompactSealed(value: unknown): EncryptedSecret | null {
  if (typeof value !== 'string') return null;
  const parts = value.split('.');
  if (parts.length !== 4) return null;
  const [keyId, nonce, ciphertext, tag] = parts as [string, string, string, string];
  return { keyId, nonce, ciphertext, tag };
}

/** The personal fields sealed for `userId`, or null when the key that sealed them was destroyed. */
export async function openPersonalFields(
  sealed: EncryptedSecret,
  keyring: UserKeyring,
): Promise<PersonalFields | null> {
  const opened = await keyring.openPersonal(sealed);
  if (opened === null) return null;
  return {
    metadata: (opened.metadata ?? {}) as Record<string, unknown>,
    data: (opened.data ?? {}) as Record<string, unknown>,
  };
}
