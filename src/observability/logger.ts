import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths that are never written, at any level: credentials in headers and every field that
 * may hold a secret, a code, a recovery code or a digest, wherever it is nested.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  // The web UI's session cookie and CSRF token are credentials too.
  'req.headers.cookie',
  'headers.cookie',
  'headers["x-csrf-token"]',
  'csrfToken',
  '*.csrfToken',
  'secret',
  '*.secret',
  // Request bodies only: `err.code` (FST_…, SQLITE_…) must stay readable in error logs.
  'body.code',
  '*.body.code',
  'recoveryCode',
  '*.recoveryCode',
  'recoveryCodes',
  '*.recoveryCodes',
  'digests',
  '*.digests',
  'apiKeys',
  '*.apiKeys',
  'otpauthUri',
  '*.otpauthUri',
  'qrCode',
  '*.qrCode',
  // The end user's personal data: kept sealed under their data key in the log, so that an
  // erasure reaches it; a log line would be a copy beyond its reach. (The trace of a request.)
  'headers["x-end-user-ip"]',
  'headers["x-end-user-agent"]',
  'headers["user-agent"]',
  'req.headers["x-end-user-ip"]',
  'req.headers["x-end-user-agent"]',
  'req.headers["user-agent"]',
  'body.accountName',
  '*.body.accountName',
  'endUserIp',
  '*.endUserIp',
  'endUserAgent',
  '*.endUserAgent',
];

/**
 * Writes to `destination`, or by default to stdout asynchronously: while one write is in
 * flight, later lines are buffered and go out together, so a busy service spends one system
 * call on many request lines instead of one each. pino flushes what is buffered when the
 * process exits.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'two-factor' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
