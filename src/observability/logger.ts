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

/** How long a line may wait in the buffer of the default destination before it is written. */
export const LOG_FLUSH_MS = 250;

/**
 * Writes to `destination`, or by default to stdout asynchronously and in blocks: lines are
 * gathered until 4 KiB have accumulated or `LOG_FLUSH_MS` has passed, so a busy service spends
 * one system call on dozens of request lines. pino flushes what is buffered when the process
 * exits.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'two-factor' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? blockWrittenStdout(),
  );
}

function blockWrittenStdout(): DestinationStream {
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  // A quiet service's lines go out within the interval; a busy one's when the block is full.
  setInterval(() => {
    try {
      stdout.flush();
    } catch {
      // Nothing to flush, or a write still in flight: the next tick takes it.
    }
  }, LOG_FLUSH_MS).unref();
  return stdout;
}
