/**
 * Stream heads: where each stream of the log ended at one moment — its last revision and
 * the hash that event carries. A hash chain proves every event up to a head unaltered, but
 * only relative to the head the store itself holds; someone who can write the store can
 * cut events off the end, drop a stream, or rewrite it and recompute the hashes. A copy of
 * the heads kept outside the store anchors the chain: see `verifyAgainstHeads`.
 */

/** The format tag of the heads document; a change of its meaning gets a new tag. */
export const HEADS_FORMAT = 'two-factor-heads/1';

export type StreamHead = { readonly revision: bigint; readonly hash: string };

/** The heads document, as read or written: the heads of every stream as of `position`. */
export type HeadsDocument = {
  /** ISO 8601: the walk started then, so every event recorded before it is covered */
  readonly takenAt: string;
  /** the global position of the last event the walk read (0 for an empty log) */
  readonly position: bigint;
  readonly streams: ReadonlyMap<string, StreamHead>;
};

/** Thrown by `parseHeads`; the message says what is wrong but never quotes the text. */
export class MalformedHeadsError extends Error {
  override readonly name = 'MalformedHeadsError';
}

/** The document as JSON: bigints as decimal strings, streams sorted by name so copies diff cleanly. */
export function formatHeads(document: HeadsDocument): string {
  const names = [...document.streams.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // Object.fromEntries defines own properties, so even a stream named "__proto__" survives.
  const streams = Object.fromEntries(
    names.map((name) => {
      const head = document.streams.get(name)!;
      return [name, { revision: head.revision.toString(), hash: head.hash }];
    }),
  );
  const json = {
    format: HEADS_FORMAT,
    takenAt: document.takenAt,
    position: document.position.toString(),
    streams,
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const HASH = /^[0-9a-f]{64}$/;
// As `toISOString` writes it; a hand-edited time in another form is refused, not guessed at.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function field(object: Record<string, unknown>, key: string, pattern: RegExp, what: string, at = key) {
  const value = Object.hasOwn(object, key) ? object[key] : undefined;
  if (typeof value !== 'string' || !pattern.test(value))
    throw new MalformedHeadsError(`${at} must be ${what}`);
  return value;
}

/**
 * A heads document from its JSON text, checked field by field. Hand-written rather than a
 * zod schema: stream names are arbitrary keys, and zod drops a `__proto__` key silently —
 * a stream the check would then never look at.
 */
export function parseHeads(text: string): HeadsDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // The parser's message quotes the text; the file named may not be a heads file at all.
    throw new MalformedHeadsError('it is not JSON');
  }
  if (!isObject(raw)) throw new MalformedHeadsError('it is not a JSON object');
  if (raw.format !== HEADS_FORMAT) throw new MalformedHeadsError(`format must be "${HEADS_FORMAT}"`);
  const takenAt = field(raw, 'takenAt', ISO_TIME, 'an ISO 8601 UTC time');
  if (Number.isNaN(Date.parse(takenAt))) throw new MalformedHeadsError('takenAt is not a time that exists');
  const position = BigInt(field(raw, 'position', DECIMAL, 'a decimal number in a string'));
  if (!isObject(raw.streams)) throw new MalformedHeadsError('streams must be an object');
  const streams = new Map<string, StreamHead>();
  for (const [name, head] of Object.entries(raw.streams)) {
    const at = `streams[${JSON.stringify(name)}]`;
    if (name.length === 0) throw new MalformedHeadsError('a stream name must not be empty');
    if (!isObject(head)) throw new MalformedHeadsError(`${at} must be an object`);
    const revision = field(head, 'revision', DECIMAL, 'a decimal number in a string', `${at}.revision`);
    const hash = field(head, 'hash', HASH, '64 lowercase hexadecimal digits', `${at}.hash`);
    streams.set(name, { revision: BigInt(revision), hash });
  }
  return { takenAt, position, streams };
}
