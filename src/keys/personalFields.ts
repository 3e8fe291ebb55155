import type { AnyEvent } from '../domain/shared/message.ts';
import type { EncryptedSecret } from '../domain/twoFactor/encryptedSecret.ts';
import type { UserKeyring } from './userKeys.ts';

/** The metadata field that holds an event's personal fields, sealed with its user's data key. */
export const PERSONAL_KEY = 'personal';

/** What is personal data of the end user in every event's metadata. */
const PERSONAL_METADATA = ['endUserIp', 'endUserAgent'] as const;

/**
 * The id of the person a web call acted for (`X-Actor-Id` of role `web`, the end user), kept
 * sealed as `actorId`; the stored actor keeps its role with `id: null`. Administrators' ids
 * (roles admin, cli) are the service's own records and stay readable.
 */
const ACTOR_ID = 'actorId';
const PERSONAL_ACTOR_ROLES: ReadonlySet<unknown> = new Set(['web']);

/**
 * …and in the data of some event types: the addresses of a count of refusals, and the free
 * text an administrator wrote about the user (a reset's reason). The erasure's own reason is
 * not here: it is the record of the erasure, written after the key that would seal it is gone.
 */
const PERSONAL_DATA: Readonly<Record<string, readonly string[]>> = {
  RefusedAttemptsCounted: ['endUserIps'],
  AdminReset: ['reason'],
};

/**
 * Data fields that stay in the event, readable, when there is no data key to seal them with
 * and none may be made (after an erasure): an administrator's account of what they did. Every
 * other personal field is then left out.
 */
const KEPT_WITHOUT_KEY: ReadonlySet<string> = new Set(['reason']);

/** The kinds of personal field an event may hold, as an erasure's answer names them. */
export type PersonalFieldKind = 'endUserIp' | 'endUserAgent' | 'actorId' | 'endUserIps' | 'reason';

/** The personal fields of one event, as sealed: where each came from. */
export type PersonalFields = {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly data: Readonly<Record<string, unknown>>;
};

/** An empty value is no personal data: nothing to seal, and no reason to make a key for it. */
const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

function take(
  from: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): { rest: Record<string, unknown>; taken: Record<string, unknown> } {
  const rest = { ...from };
  const taken: Record<string, unknown> = {};
  for (const field of fields) {
    if (isEmpty(rest[field])) continue;
    taken[field] = rest[field];
    delete rest[field];
  }
  return { rest, taken };
}

type Actor = { readonly role?: unknown; readonly id?: unknown };

/** The end user's id in a web call's actor, if any. */
const endUserActorId = (metadata: Readonly<Record<string, unknown>>): string | null => {
  const actor = metadata.actor as Actor | undefined;
  return PERSONAL_ACTOR_ROLES.has(actor?.role) && typeof actor?.id === 'string' && actor.id !== ''
    ? actor.id
    : null;
};

/** The personal fields of an event's metadata, taken out of it. */
function takeFromMetadata(metadata: Readonly<Record<string, unknown>>) {
  const { rest, taken } = take(metadata, PERSONAL_METADATA);
  const actorId = endUserActorId(metadata);
  if (actorId !== null) {
    taken[ACTOR_ID] = actorId;
    rest.actor = { ...(metadata.actor as Record<string, unknown>), id: null };
  }
  return { rest, taken };
}

/**
 * The event as it is stored: its personal fields moved out of the data and metadata into
 * one value sealed with the user's data key, under `metadata.personal`. An event without
 * personal fields is returned as it is (and needs no data key). The hash chain is computed
 * over the sealed form, so erasing the key later leaves the chain intact.
 *
 * `createKey: false` (after an erasure) never makes a data key: when the user has none, the
 * end user's fields are left out, and an administrator's reason stays readable.
 */
export async function sealPersonalFields<E extends AnyEvent>(
  event: E,
  keyring: UserKeyring,
  { createKey = true }: { readonly createKey?: boolean } = {},
): Promise<E> {
  const metadata = takeFromMetadata(event.metadata as Readonly<Record<string, unknown>>);
  const data = take(event.data as Readonly<Record<string, unknown>>, PERSONAL_DATA[event.type] ?? []);
  if (Object.keys(metadata.taken).length === 0 && Object.keys(data.taken).length === 0) return event;
  const sealed = await keyring.sealPersonal(
    { metadata: metadata.taken, data: data.taken },
    { create: createKey },
  );
  if (sealed === null) {
    const kept = Object.fromEntries(
      Object.entries(data.taken).filter(([field]) => KEPT_WITHOUT_KEY.has(field)),
    );
    const emptied = Object.fromEntries(
      Object.keys(data.taken)
        .filter((field) => !KEPT_WITHOUT_KEY.has(field))
        .map((field) => [field, Array.isArray(data.taken[field]) ? [] : null]),
    );
    return { ...event, data: { ...data.rest, ...emptied, ...kept }, metadata: metadata.rest } as E;
  }
  return { ...event, data: data.rest, metadata: { ...metadata.rest, [PERSONAL_KEY]: sealed } } as E;
}

/**
 * The kinds of personal field a stored event carries in plain text: written before they
 * were sealed (before data keys; web actor ids and reasons before they were sealed too), so
 * out of an erasure's reach (events are never rewritten).
 */
export function plaintextPersonalFields(event: {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}): PersonalFieldKind[] {
  const metadata = event.metadata as Readonly<Record<string, unknown>>;
  const data = event.data as Readonly<Record<string, unknown>>;
  const kinds: PersonalFieldKind[] = PERSONAL_METADATA.filter((field) => !isEmpty(metadata[field]));
  if (endUserActorId(metadata) !== null) kinds.push('actorId');
  for (const field of PERSONAL_DATA[event.type] ?? []) {
    if (!isEmpty(data[field])) kinds.push(field as PersonalFieldKind);
  }
  return kinds;
}

/**
 * Whether a stored event carries the end user's address or agent in plain text: written
 * before data keys, so out of an erasure's reach (events are never rewritten).
 */
export function hasPlaintextPersonalFields(event: {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: unknown;
}): boolean {
  return plaintextPersonalFields(event).some(
    (kind) => kind === 'endUserIp' || kind === 'endUserAgent' || kind === 'endUserIps',
  );
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
