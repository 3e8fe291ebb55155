import { describe, expect, it } from 'vitest';
import type { StreamHead } from '../../src/audit/streamHeads.ts';
import { type ReachedHeads, verifyAgainstHeads } from '../../src/audit/verifyAgainstHeads.ts';
import { verifyChain } from '../../src/audit/verifyChain.ts';
import type { RecordedEvent } from '../../src/eventStore/eventStore.ts';
import { chainedStream, globalLog, storeOf } from './chainedLog.ts';

const hash = (digit: string) => digit.repeat(64);
const saved = (...streams: [string, StreamHead][]) => ({ streams: new Map(streams) });

/** What a walk reached: heads, and the hashes it found at the anchored revisions. */
const reached = (streams: [string, StreamHead][], anchoredHashes: [string, string][] = []): ReachedHeads => ({
  position: 10n,
  streams: new Map(streams),
  anchoredHashes: new Map(anchoredHashes),
});

describe('verifyAgainstHeads', () => {
  it('holds when every saved stream is where it was', () => {
    const verdict = verifyAgainstHeads(
      reached(
        [
          ['a', { revision: 3n, hash: hash('a') }],
          ['b', { revision: 0n, hash: hash('b') }],
        ],
        [
          ['a', hash('a')],
          ['b', hash('b')],
        ],
      ),
      saved(['a', { revision: 3n, hash: hash('a') }], ['b', { revision: 0n, hash: hash('b') }]),
    );
    expect(verdict).toEqual({ ok: true, anchored: 2 });
  });

  it('holds when streams grew and new streams appeared since', () => {
    const verdict = verifyAgainstHeads(
      reached(
        [
          ['a', { revision: 9n, hash: hash('9') }],
          ['new', { revision: 0n, hash: hash('n') }],
        ],
        [['a', hash('a')]],
      ),
      saved(['a', { revision: 3n, hash: hash('a') }]),
    );
    expect(verdict).toEqual({ ok: true, anchored: 1 });
  });

  it('names a stream that is gone', () => {
    const verdict = verifyAgainstHeads(
      reached([['b', { revision: 0n, hash: hash('b') }]]),
      saved(['a', { revision: 3n, hash: hash('a') }]),
    );
    expect(verdict).toEqual({
      ok: false,
      problem: {
        kind: 'missing',
        streamName: 'a',
        revision: 3n,
        reason: expect.stringMatching(/the stream is gone: it had events up to revision 3/),
      },
    });
  });

  it('names a stream cut off before its anchored revision', () => {
    const verdict = verifyAgainstHeads(
      reached([['a', { revision: 1n, hash: hash('1') }]]),
      saved(['a', { revision: 3n, hash: hash('a') }]),
    );
    expect(verdict).toMatchObject({
      ok: false,
      problem: {
        kind: 'truncated',
        streamName: 'a',
        revision: 3n,
        reason: expect.stringMatching(/ends at revision 1, but had reached revision 3.*cut off/),
      },
    });
  });

  it('names a stream whose event at the anchored revision carries another hash', () => {
    const verdict = verifyAgainstHeads(
      reached([['a', { revision: 5n, hash: hash('5') }]], [['a', hash('f')]]),
      saved(['a', { revision: 3n, hash: hash('a') }]),
    );
    expect(verdict).toMatchObject({
      ok: false,
      problem: {
        kind: 'rewritten',
        streamName: 'a',
        revision: 3n,
        reason: expect.stringMatching(/rewritten/),
      },
    });
  });

  it('fails safe: an anchor the walk found no hash for is not reported as holding', () => {
    const verdict = verifyAgainstHeads(
      reached([['a', { revision: 3n, hash: hash('a') }]]),
      saved(['a', { revision: 3n, hash: hash('a') }]),
    );
    expect(verdict).toMatchObject({ ok: false, problem: { kind: 'rewritten' } });
  });

  it('reports the first problem in stream name order, whatever the order of the file', () => {
    const verdict = verifyAgainstHeads(
      reached([]),
      saved(['z', { revision: 0n, hash: hash('z') }], ['m', { revision: 0n, hash: hash('m') }]),
    );
    expect(verdict).toMatchObject({ ok: false, problem: { streamName: 'm' } });
  });
});

describe('verifyChain and verifyAgainstHeads over a log', () => {
  const a = chainedStream('a', 4);
  const b = chainedStream('b', 3);
  const headsOf = async (log: RecordedEvent[], anchors?: ReadonlyMap<string, StreamHead>) => {
    const verdict = await verifyChain(storeOf(log), { heads: true, anchors });
    if (!verdict.ok) throw new Error(`the chain broke: ${verdict.brokenAt.reason}`);
    return verdict.heads;
  };
  const check = async (log: RecordedEvent[], anchors: ReadonlyMap<string, StreamHead>) =>
    verifyAgainstHeads(await headsOf(log, anchors), { streams: anchors });

  it('catches the last event of a stream cut off, which the chain alone accepts', async () => {
    const { streams } = await headsOf(globalLog(a, b));
    await expect(check(globalLog(a, b), streams)).resolves.toEqual({ ok: true, anchored: 2 });
    await expect(check(globalLog(a.slice(0, 3), b), streams)).resolves.toMatchObject({
      ok: false,
      problem: { kind: 'truncated', streamName: 'a', revision: 3n },
    });
  });

  it('accepts events appended after the heads were taken', async () => {
    const { streams } = await headsOf(globalLog(a.slice(0, 2), b.slice(0, 1)));
    await expect(check(globalLog(a, b), streams)).resolves.toEqual({ ok: true, anchored: 2 });
  });

  it('catches a stream rewritten from an event on, with every hash after it recomputed', async () => {
    const { streams } = await headsOf(globalLog(a, b));
    // Revision 1 of "a" tells another story; the forger chains it and all after it anew.
    const forged = chainedStream('a', 4, (revision) => ({ n: revision === 1 ? 99 : revision, userId: 'u' }));
    await expect(verifyChain(storeOf(globalLog(forged, b)))).resolves.toMatchObject({ ok: true });
    await expect(check(globalLog(forged, b), streams)).resolves.toMatchObject({
      ok: false,
      problem: { kind: 'rewritten', streamName: 'a', revision: 3n },
    });
  });
});
