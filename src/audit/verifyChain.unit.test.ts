import { describe, expect, it } from 'vitest';
import { chainedStream, domainEvent, globalLog, storeOf } from '../../test/audit/chainedLog.ts';
import { toStoredEvents } from '../application/storedEvent.ts';
import { type RecordedEvent, StoreUnavailableError } from '../eventStore/eventStore.ts';
import { linkedMetadata, linkOf } from './storedMetadata.ts';
import { UnreadableEventError, verifyChain } from './verifyChain.ts';

const replaceAt = (log: RecordedEvent[], index: number, change: Partial<RecordedEvent>) =>
  log.map((event, i) => (i === index ? { ...event, ...change } : event));

describe('verifyChain', () => {
  it('verifies an intact history of interleaved streams', async () => {
    const log = globalLog(chainedStream('two-factor-a', 3), chainedStream('two-factor-b', 2));
    await expect(verifyChain(storeOf(log))).resolves.toEqual({ ok: true, checked: 5, streams: 2 });
  });

  it('verifies an empty log', async () => {
    await expect(verifyChain(storeOf([]))).resolves.toEqual({ ok: true, checked: 0, streams: 0 });
  });

  it('reports progress as it goes', async () => {
    const seen: number[] = [];
    await verifyChain(storeOf(globalLog(chainedStream('s', 3))), { onProgress: (n) => seen.push(n) });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("names the edited event when an event's data changed", async () => {
    const log = globalLog(chainedStream('two-factor-a', 3), chainedStream('two-factor-b', 3));
    // index 2 is two-factor-a revision 1
    const edited = replaceAt(log, 2, { data: { ...log[2]!.data, n: 99 } });
    const verdict = await verifyChain(storeOf(edited));
    expect(verdict).toMatchObject({
      ok: false,
      checked: 2,
      brokenAt: {
        streamName: 'two-factor-a',
        revision: 1n,
        position: 3n,
        reason: expect.stringMatching(/hash mismatch/),
      },
    });
  });

  it('detects an edit of the metadata (who acted) and of the type', async () => {
    const log = globalLog(chainedStream('s', 2));
    const actor = replaceAt(log, 1, { metadata: { ...log[1]!.metadata, actor: { role: 'admin', id: 'x' } } });
    const type = replaceAt(log, 0, { type: 'SomethingElse' });
    await expect(verifyChain(storeOf(actor))).resolves.toMatchObject({
      ok: false,
      brokenAt: { revision: 1n },
    });
    await expect(verifyChain(storeOf(type))).resolves.toMatchObject({
      ok: false,
      brokenAt: { revision: 0n },
    });
  });

  it('detects an event whose hash was removed', async () => {
    const log = globalLog(chainedStream('s', 2));
    const withoutHash = linkedMetadata(log[1]!.metadata);
    const verdict = await verifyChain(storeOf(replaceAt(log, 1, { metadata: withoutHash })));
    expect(verdict).toMatchObject({
      ok: false,
      brokenAt: { revision: 1n, reason: expect.stringMatching(/no hash/) },
    });
  });

  it('detects an event deleted from the middle of a stream at the event after the gap', async () => {
    const log = globalLog(chainedStream('s', 4));
    const verdict = await verifyChain(storeOf(log.filter((_, i) => i !== 1)));
    expect(verdict).toMatchObject({
      ok: false,
      checked: 1,
      brokenAt: { streamName: 's', revision: 2n, position: 3n, reason: expect.stringMatching(/missing/) },
    });
  });

  it('detects a stream whose first events are gone', async () => {
    const log = globalLog(chainedStream('s', 3));
    const verdict = await verifyChain(storeOf(log.slice(1)));
    expect(verdict).toMatchObject({
      ok: false,
      brokenAt: { revision: 1n, reason: expect.stringMatching(/starts at revision 1, not 0/) },
    });
  });

  it('detects a duplicated or reordered event', async () => {
    const log = globalLog(chainedStream('s', 3));
    const duplicated = [...log.slice(0, 2), { ...log[1]!, position: 3n }, { ...log[2]!, position: 4n }];
    await expect(verifyChain(storeOf(duplicated))).resolves.toMatchObject({
      ok: false,
      brokenAt: { revision: 1n, position: 3n, reason: expect.stringMatching(/out of order/) },
    });
  });

  it("catches an edit whose own hash was recomputed at the next event's link", async () => {
    const log = globalLog(chainedStream('s', 3));
    // The forger re-chains revision 1 to revision 0's hash, so revision 1 itself checks out…
    const forged = toStoredEvents('s', 1n, linkOf(log[0]!.metadata)!, [
      domainEvent('Something', { n: 42, userId: 'u' }),
    ]).stored[0]!;
    const rewritten = replaceAt(log, 1, { data: forged.data, metadata: forged.metadata });
    // …but revision 2 still links to the hash revision 1 had.
    await expect(verifyChain(storeOf(rewritten))).resolves.toMatchObject({
      ok: false,
      checked: 2,
      brokenAt: { revision: 2n, reason: expect.stringMatching(/hash mismatch/) },
    });
  });

  it('reports the first break in global order when several streams are damaged', async () => {
    const log = globalLog(chainedStream('a', 3), chainedStream('b', 3));
    // b@0 is index 1; a@2 is index 4
    const damaged = replaceAt(replaceAt(log, 4, { type: 'X' }), 1, { type: 'X' });
    await expect(verifyChain(storeOf(damaged))).resolves.toMatchObject({
      ok: false,
      brokenAt: { streamName: 'b', revision: 0n },
    });
  });

  it('reports an unparseable event without quoting its bytes', async () => {
    const log = globalLog(chainedStream('s', 3));
    const leak = 'JBSWY3DPEHPK3PXP'; // what a JSON parser might quote from the text it choked on
    const error = new SyntaxError(`Unexpected token in JSON: "${leak}..." is not valid JSON`);
    const failure = await verifyChain(storeOf(log, { index: 2, error })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UnreadableEventError);
    expect((failure as UnreadableEventError).afterPosition).toBe(2n);
    expect((failure as Error).message).toMatch(/after position 2 cannot be read/);
    expect((failure as Error).message).not.toContain(leak);
  });

  it('passes an unavailable store on as such', async () => {
    const log = globalLog(chainedStream('s', 2));
    const error = new StoreUnavailableError('down');
    await expect(verifyChain(storeOf(log, { index: 1, error }))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});

describe('verifyChain with heads', () => {
  const hashOf = (event: RecordedEvent) => linkOf(event.metadata)!;

  it("returns each stream's last revision and hash and the last position read, in the same walk", async () => {
    const a = chainedStream('a', 3);
    const b = chainedStream('b', 2);
    const verdict = await verifyChain(storeOf(globalLog(a, b)), { heads: true });
    expect(verdict).toEqual({
      ok: true,
      checked: 5,
      streams: 2,
      heads: {
        position: 5n,
        streams: new Map([
          ['a', { revision: 2n, hash: hashOf(a[2]!) }],
          ['b', { revision: 1n, hash: hashOf(b[1]!) }],
        ]),
        anchoredHashes: new Map(),
      },
    });
  });

  it('returns no heads unless asked, and position 0 for an empty log', async () => {
    const verdict = await verifyChain(storeOf(globalLog(chainedStream('a', 1))));
    expect(verdict).not.toHaveProperty('heads');
    const empty = await verifyChain(storeOf([]), { heads: true });
    expect(empty).toMatchObject({ ok: true, heads: { position: 0n, streams: new Map() } });
  });

  it('keeps the hash each anchored stream carries at its anchored revision, not at its head', async () => {
    const a = chainedStream('a', 4);
    const b = chainedStream('b', 2);
    const anchors = new Map([
      ['a', { revision: 1n, hash: 'whatever: compared later, by verifyAgainstHeads' }],
      ['b', { revision: 5n, hash: 'beyond the head: never reached' }],
      ['gone', { revision: 0n, hash: 'no such stream' }],
    ]);
    const verdict = await verifyChain(storeOf(globalLog(a, b)), { heads: true, anchors });
    expect(verdict.ok && verdict.heads.anchoredHashes).toEqual(new Map([['a', hashOf(a[1]!)]]));
  });
});
