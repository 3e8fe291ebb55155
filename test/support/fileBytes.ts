import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Tampering as an attacker with the file would: overwrite one byte inside every copy of
 * `needle` in `file` (at `offset` within it) — no database code involved. Every copy, because
 * SQLite may leave stale copies of a row in free space after moving it while balancing its
 * b-tree; only the live one matters, and it is among them. Returns how many were edited.
 */
export function overwriteByteIn(file: string, needle: string, offset: number, byte: string): number {
  const bytes = readFileSync(file);
  const pattern = Buffer.from(needle);
  let edited = 0;
  for (let at = bytes.indexOf(pattern); at !== -1; at = bytes.indexOf(pattern, at + 1)) {
    bytes[at + offset] = byte.charCodeAt(0);
    edited += 1;
  }
  writeFileSync(file, bytes);
  return edited;
}
