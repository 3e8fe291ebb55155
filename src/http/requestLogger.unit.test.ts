import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.ts';
import { lazyChildLogger } from './requestLogger.ts';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

const flushed = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the request logger', () => {
  it('makes no child logger until something is logged at an enabled level', () => {
    const { logger } = capture('info');
    let made = 0;
    const counting = new Proxy(logger, {
      get: (target, key) =>
        key === 'child'
          ? (...args: Parameters<typeof logger.child>) => {
              made += 1;
              return target.child(...args);
            }
          : Reflect.get(target, key),
    });
    const log = lazyChildLogger(counting, { reqId: 'r-1' }, {});

    log.debug('below the level');
    log.trace({ detail: 1 }, 'below the level');
    expect(made).toBe(0);
    expect(log.level).toBe('info');
    log.warn('now');
    log.error('again');
    expect(made).toBe(1);
  });

  it('writes what the child would, with the request id and the redaction of the service logger', async () => {
    const { logger, lines } = capture('info');
    const log = lazyChildLogger(logger, { reqId: 'r-2' }, {});

    log.error({ headers: { authorization: 'Bearer secret-key' } }, 'failed');
    await flushed();

    expect(lines).toEqual([
      expect.objectContaining({ reqId: 'r-2', msg: 'failed', headers: { authorization: '[redacted]' } }),
    ]);
  });

  it('honours a level of its own, given when it is made', async () => {
    const { logger, lines } = capture('info');
    const log = lazyChildLogger(logger, { reqId: 'r-3' }, { level: 'warn' });

    log.info('quiet');
    log.warn('loud');
    await flushed();

    expect(log.level).toBe('warn');
    expect(lines.map((line) => line.msg)).toEqual(['loud']);
  });
});
