import { deflateRawSync, inflateRawSync } from 'node:zlib';

/*
 * The plaintext of an event's sealed personal fields (the end user's address and agent):
 * JSON, deflated against a dictionary of what such fields usually hold, before it is
 * sealed. A browser's user agent of a hundred characters takes a dozen bytes, which matters
 * when every sign-in event carries one. The dictionary is part of the format: it never
 * changes; another one would be another format byte.
 *
 * Byte 0 tells the format: `{` is plain JSON (sealed before this encoding existed), 1 is
 * JSON deflated (raw DEFLATE, 1 KiB window) with DICTIONARY_1.
 */

const DEFLATED_1 = 1;
const WINDOW_BITS = 10;

// Most likely last (DEFLATE finds matches nearest the end of the dictionary first).
const DICTIONARY_1 = Buffer.from(
  [
    '{"metadata":{},"data":{"endUserIps":[]}}',
    'Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) (iPhone; CPU iPhone OS 18_0 like Mac OS X) ',
    '(Linux; Android 14; SM-S918B) (Linux; Android 10; K) (X11; Ubuntu; Linux x86_64; rv:133.0) ',
    '(Macintosh; Intel Mac OS X 10_15_7) (Windows NT 10.0; Win64; x64) (X11; Linux x86_64) ',
    'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1 ',
    'Gecko/20100101 Firefox/133.0 Edg/131.0.0.0 OPR/115.0.0.0 SamsungBrowser/26.0 ',
    'curl/8.5.0 okhttp/4.12.0 python-requests/2.32 ',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
    '{"metadata":{"endUserIp":"192.168.100.10","endUserAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},"data":{}}',
  ].join(''),
  'utf8',
);

export function encodePersonalPlaintext(value: Readonly<Record<string, unknown>>): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  const deflated = deflateRawSync(json, {
    level: 9,
    windowBits: WINDOW_BITS,
    memLevel: 8,
    dictionary: DICTIONARY_1,
  });
  return Buffer.concat([Buffer.of(DEFLATED_1), deflated]);
}

export function decodePersonalPlaintext(plaintext: Buffer): Record<string, unknown> {
  const format = plaintext[0];
  if (format === '{'.charCodeAt(0)) return JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
  if (format !== DEFLATED_1)
    throw new Error(`sealed personal fields in an unknown format (${String(format)})`);
  const json = inflateRawSync(plaintext.subarray(1), { windowBits: WINDOW_BITS, dictionary: DICTIONARY_1 });
  return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
}
