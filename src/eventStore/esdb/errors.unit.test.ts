import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../eventStore.ts';
import { isUnavailable, toPortError, unavailable, withDeadline } from './errors.ts';

/** What @grpc/grpc-js rejects with: an Error carrying a numeric status code. */
const grpcError = (code: number, details = 'No connection established') =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: undefined });

describe('isUnavailable', () => {
  it('counts the raw gRPC UNAVAILABLE error the client rejects an append with', () => {
    expect(isUnavailable(grpcError(14))).toBe(true);
    expect(isUnavailable({ code: 14 })).toBe(true);
  });

  it('counts raw deadline, abort and server-side cancellation codes', () => {
    expect(isUnavailable(grpcError(4))).toBe(true);
    expect(isUnavailable(grpcError(10))).toBe(true);
    expect(isUnavailable(grpcError(1))).toBe(true);
  });

  it('does not count other raw gRPC codes', () => {
    for (const code of [0, 2, 3, 5, 7, 9, 12, 13, 16]) expect(isUnavailable(grpcError(code))).toBe(false);
  });

  it("counts the client's converted unavailability errors", () => {
    expect(isUnavailable(new UnavailableError())).toBe(true);
    expect(isUnavailable(new DeadlineExceededError())).toBe(true);
    expect(isUnavailable(new TimeoutError())).toBe(true);
    expect(isUnavailable(new CancelledError())).toBe(true);
    // Its constructor reads the leader's address from gRPC metadata; the class is what matters.
    expect(isUnavailable(Object.create(NotLeaderError.prototype))).toBe(true);
  });

  it('counts a batch append the node did not handle (starting, busy, no leader)', () => {
    expect(isUnavailable(new UnknownError(undefined, 'Could not recognize Server Is Not Ready'))).toBe(true);
    expect(isUnavailable(new UnknownError(undefined, 'Could not recognize Server Is Busy'))).toBe(true);
    expect(
      isUnavailable(new UnknownError(undefined, 'Could not recognize No leader info available in response')),
    ).toBe(true);
    expect(isUnavailable(new UnknownError(undefined, 'Could not recognize something else'))).toBe(false);
  });

  it('does not count answers from the server, whatever gRPC code they carry', () => {
    const denied = new AccessDeniedError(grpcError(16, 'Access denied') as never);
    expect(denied.code).toBe(16);
    expect(isUnavailable(denied)).toBe(false);
    expect(isUnavailable(Object.assign(new StreamNotFoundError(undefined, 's'), { code: 14 }))).toBe(false);
    expect(
      isUnavailable(
        new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 'no_stream' }),
      ),
    ).toBe(false);
  });

  it('counts socket failures and a cluster discovery that gave up', () => {
    expect(isUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isUnavailable(Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }))).toBe(true);
    expect(isUnavailable(new Error('Failed to discover after 10 attempts.'))).toBe(true);
  });

  it('does not count ordinary failures', () => {
    expect(isUnavailable(new Error('boom'))).toBe(false);
    expect(isUnavailable(new TypeError('bad input'))).toBe(false);
    expect(isUnavailable(Object.assign(new Error('exists'), { code: 'EEXIST' }))).toBe(false);
    expect(isUnavailable('14')).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
  });
});

describe('unavailable / toPortError', () => {
  it('wraps the cause and names the operation', () => {
    const cause = grpcError(14);
    const error = unavailable('append', cause);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.cause).toBe(cause);
    expect(error.message).toMatch(/^EventStoreDB unavailable \(append\): 14 /);
  });

  it('never repeats credentials found in the cause', () => {
    const cause = new Error(
      'cannot reach esdb://admin:changeit@db-1:2113?tls=true, and esdb+discover://ops:s3cr3t@c',
    );
    const error = unavailable('ping', cause);
    expect(error.message).not.toContain('changeit');
    expect(error.message).not.toContain('s3cr3t');
    expect(error.message).toContain('esdb://***@db-1:2113');
  });

  it('maps unavailability and passes every other error on unchanged', () => {
    const conflict = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n });
    const bug = new TypeError('bug');
    expect(toPortError('append', grpcError(14))).toBeInstanceOf(StoreUnavailableError);
    expect(toPortError('append', conflict)).toBe(conflict);
    expect(toPortError('append', bug)).toBe(bug);
    const already = new StoreUnavailableError('closed');
    expect(toPortError('append', already)).toBe(already);
  });
});

describe('withDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('settles like the promise when it is in time', async () => {
    await expect(withDeadline('ping', 1_000, Promise.resolve(7))).resolves.toBe(7);
    const failure = new Error('refused');
    await expect(withDeadline('ping', 1_000, Promise.reject(failure))).rejects.toBe(failure);
  });

  it('rejects with StoreUnavailableError once the deadline passes', async () => {
    vi.useFakeTimers();
    const late = withDeadline('append', 2_000, new Promise(() => {}));
    const outcome = expect(late).rejects.toThrow(
      /EventStoreDB unavailable \(append\): no answer within 2000 ms/,
    );
    await vi.advanceTimersByTimeAsync(2_000);
    await outcome;
    await expect(late).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
