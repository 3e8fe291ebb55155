/**
 * Event metadata as the log keeps it. Events are a permanent format, so both versions are
 * read for ever; only version 2 is written.
 *
 * Version 1 (no `v`): the metadata as the service builds it — `correlationId`,
 * `causationId`, `actor: { role, id }`, `schemaVersion`, the sealed personal fields under
 * `personal` as `{ keyId, nonce, ciphertext, tag }` (base64), and the chain link under
 * `hash` as 64 hexadecimal digits.
 *
 * Version 2 (`"v": 2`) holds the same facts in about half the bytes:
 * - `r`: the request id, when correlation and causation are the same (the usual case; a
 *   UUID as `u`, its 16 bytes in base64url); otherwise `correlationId` and `causationId`;
 * - `a`: the actor's role alone when no id is known, else `{ role, id }`;
 * - `s`: the schema version of the data;
 * - `p`: the sealed personal fields as one string: the data key's id (`~` and the 16 bytes of
 *   its UUID in base64url, for a `dk:` UUID), a dot, then nonce, ciphertext and tag as one
 *   base64url value;
 * - `h`: the chain link, its 32 bytes in base64url;
 * - any other field as it is.
 * Where a value does not have the usual shape, it is kept in the version 1 form under its
 * version 1 name, so nothing is ever rounded to fit.
 *
 * `readMetadata` is the upcaster: every reader that looks at metadata fields gets version 1's
 * shape. The chain is computed over the metadata as stored (`linkedMetadata`), so it holds
 * over both versions alike, and a link is always compared as hexadecimal (`linkOf`).
 */

type Metadata = Readonly<Record<string, unknown>>;

/** Where version 1 keeps the chain link. */
export const V1_LINK = 'hash';
const V2_LINK = 'h';
export const METADATA_VERSION = 2;

const V2_KEYS = new Set(['v', 'r', 'u', 'a', 's', 'p', 'h']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATA_KEY = 'dk:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const uuidToBase64url = (uuid: string) => Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
const uuidFromBase64url = (packed: string) => {
  const hex = Buffer.from(packed, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
/** Base64 that decodes and encodes back to the very same text (Buffer's own form). */
const canonicalBase64 = (value: unknown): value is string =>
  typeof value === 'string' &&
  BASE64.test(value) &&
  Buffer.from(value, 'base64').toString('base64') === value;

/** The sealed personal fields as one string, or null when they do not have the usual shape. */
function packPersonal(personal: unknown): string | null {
  if (!isObject(personal) || Object.keys(personal).length !== 4) return null;
  const { keyId, nonce, ciphertext, tag } = personal;
  if (typeof keyId !== 'string' || !keyId.startsWith(DATA_KEY) || !UUID.test(keyId.slice(DATA_KEY.length))) {
    return null;
  }
  if (!canonicalBase64(nonce) || !canonicalBase64(ciphertext) || !canonicalBase64(tag)) return null;
  const [n, c, t] = [nonce, ciphertext, tag].map((part) => Buffer.from(part, 'base64'));
  if (n!.length !== NONCE_BYTES || t!.length !== TAG_BYTES) return null;
  return `~${uuidToBase64url(keyId.slice(DATA_KEY.length))}.${Buffer.concat([n!, c!, t!]).toString('base64url')}`;
}

/** Sealed personal fields packed by version 2 (`p`) as `{ keyId, nonce, ciphertext, tag }`. */
export function unpackPersonal(packed: string): {
  keyId: string;
  nonce: string;
  ciphertext: string;
  tag: string;
} {
  const [key, sealed] = packed.split('.');
  if (key === undefined || sealed === undefined || !key.startsWith('~')) {
    throw new Error('metadata version 2: sealed personal fields in an unknown form');
  }
  const bytes = Buffer.from(sealed, 'base64url');
  return {
    keyId: `${DATA_KEY}${uuidFromBase64url(key.slice(1))}`,
    nonce: bytes.subarray(0, NONCE_BYTES).toString('base64'),
    ciphertext: bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES).toString('base64'),
    tag: bytes.subarray(bytes.length - TAG_BYTES).toString('base64'),
  };
}

/**
 * The metadata a new event is stored with (version 2), without its chain link: the one the
 * chain hashes. `metadata` is the service's own (version 1's shape, no link).
 */
export function storedMetadataOf(metadata: Metadata): Record<string, unknown> {
  const { correlationId, causationId, actor, schemaVersion, personal, ...rest } = metadata;
  // A field of its own named like a version 2 key would be ambiguous: such metadata stays version 1.
  if (Object.keys(rest).some((key) => V2_KEYS.has(key)) || V1_LINK in rest) return { ...metadata };
  const stored: Record<string, unknown> = { v: METADATA_VERSION };
  if (typeof correlationId === 'string' && correlationId === causationId) {
    if (UUID.test(correlationId)) stored.u = uuidToBase64url(correlationId);
    else stored.r = correlationId;
  } else {
    if (correlationId !== undefined) stored.correlationId = correlationId;
    if (causationId !== undefined) stored.causationId = causationId;
  }
  if (
    isObject(actor) &&
    Object.keys(actor).length === 2 &&
    typeof actor.role === 'string' &&
    actor.id === null
  ) {
    stored.a = actor.role;
  } else if (actor !== undefined) {
    stored.a = actor;
  }
  if (schemaVersion !== undefined) stored.s = schemaVersion;
  if (personal !== undefined) {
    const packed = packPersonal(personal);
    if (packed === null) stored.personal = personal;
    else stored.p = packed;
  }
  return { ...stored, ...rest };
}

/** The stored metadata with its chain link (a hash of 64 hexadecimal digits) added, in its version's form. */
export function withLink(stored: Metadata, hash: string): Record<string, unknown> {
  return stored.v === METADATA_VERSION
    ? { ...stored, [V2_LINK]: Buffer.from(hash, 'hex').toString('base64url') }
    : { ...stored, [V1_LINK]: hash };
}

/** The chain link a stored event carries, as 64 hexadecimal digits; undefined when it carries none. */
export function linkOf(stored: Metadata): string | undefined {
  if (stored.v === METADATA_VERSION) {
    const link = stored[V2_LINK];
    if (typeof link !== 'string' || link.length === 0) return undefined;
    return Buffer.from(link, 'base64url').toString('hex');
  }
  const link = stored[V1_LINK];
  return typeof link === 'string' && link.length > 0 ? link : undefined;
}

/** The stored metadata without its chain link: what the link itself covers. */
export function linkedMetadata(stored: Metadata): Record<string, unknown> {
  const { [stored.v === METADATA_VERSION ? V2_LINK : V1_LINK]: _link, ...covered } = stored;
  return covered;
}

/**
 * The upcaster: stored metadata of either version in version 1's shape (the link as `hash`,
 * in hexadecimal). Throws for a version newer than this build knows. `keepSealedPacked`:
 * sealed personal fields of version 2 stay one string (`unpackPersonal` opens it), for a
 * reader that only passes them on; `withoutLink`: no `hash` for version 2.
 */
export function readMetadata(
  stored: Metadata,
  options: {
    readonly keepSealedPacked?: boolean;
    /** leave the chain link out (a reader with no use for it, as the projections) */
    readonly withoutLink?: boolean;
  } = {},
): Record<string, unknown> {
  if (stored.v === undefined) return { ...stored };
  if (stored.v !== METADATA_VERSION) {
    throw new Error(`event metadata version ${String(stored.v)} is newer than this build knows`);
  }
  const { v: _version, r, u, a, s, p, h: _link, ...rest } = stored;
  const read: Record<string, unknown> = {};
  const request = typeof u === 'string' ? uuidFromBase64url(u) : r;
  if (request !== undefined) {
    read.correlationId = request;
    read.causationId = request;
  }
  if (a !== undefined) read.actor = typeof a === 'string' ? { role: a, id: null } : a;
  if (s !== undefined) read.schemaVersion = s;
  if (typeof p === 'string') read.personal = options.keepSealedPacked ? p : unpackPersonal(p);
  const link = options.withoutLink ? undefined : linkOf(stored);
  return { ...read, ...rest, ...(link === undefined ? {} : { [V1_LINK]: link }) };
}
