import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RecordingOutput } from '../reorder/recording-output.ts';
import { ConvoyMerge, type ProgressMarker } from './convoy-merge.ts';

interface Ev {
  seq: number;
}

type Item = { kind: 'data'; seq: number } | { kind: 'marker'; marker: ProgressMarker };

/**
 * A splitter over seqs 0..n-1: seq s goes to a sub-stream of its epoch (rescaling N -> M at seq
 * `boundary`), markers "up to the last seq written" go in position into every sub-stream of the
 * current epoch; at the rescale the old sub-streams get a final marker. Workers drop filtered
 * events. The merge sees the sub-streams interleaved at random, each in its own order.
 */
const convoyScenario = fc
  .record({
    n: fc.integer({ min: 1, max: 80 }),
    n0: fc.integer({ min: 1, max: 4 }),
    n1: fc.integer({ min: 1, max: 4 }),
    boundaryFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { freq: 2 }),
    routes: fc.array(fc.nat(), { minLength: 80, maxLength: 80 }),
    filtered: fc.array(fc.boolean(), { minLength: 80, maxLength: 80 }),
    markerAfter: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 80, maxLength: 80 }),
    picks: fc.array(fc.nat(), { minLength: 400, maxLength: 400 }),
  })
  .map((s) => {
    const boundary = s.boundaryFraction === null ? Number.POSITIVE_INFINITY : Math.floor(s.boundaryFraction * s.n);
    const queues: Item[][] = [];
    const epoch0 = Array.from({ length: s.n0 }, () => queues.push([]) - 1);
    const epoch1 = boundary === Number.POSITIVE_INFINITY ? [] : Array.from({ length: s.n1 }, () => queues.push([]) - 1);
    const kept: number[] = [];
    const mark = (upTo: number, inNew: boolean) => {
      const subs = inNew ? epoch1 : epoch0;
      subs.forEach((q, k) => {
        const marker: ProgressMarker = inNew
          ? { epoch: 1, subStreams: s.n1, epochStart: boundary, subStream: k, upTo }
          : { subStream: k, upTo };
        queues[q]?.push({ kind: 'marker', marker });
      });
    };
    for (let seq = 0; seq < s.n; seq++) {
      const inNew = seq >= boundary;
      if (seq === boundary) mark(seq - 1, false);
      const subs = inNew ? epoch1 : epoch0;
      const q = subs[(s.routes[seq] as number) % subs.length] as number;
      if (!s.filtered[seq]) {
        queues[q]?.push({ kind: 'data', seq });
        kept.push(seq);
      }
      if (s.markerAfter[seq] === 0) mark(seq, inNew);
    }
    if (boundary >= s.n && boundary !== Number.POSITIVE_INFINITY) mark(s.n - 1, false);
    mark(s.n - 1, boundary !== Number.POSITIVE_INFINITY);
    return { ...s, boundary, queues, kept, epochs: boundary === Number.POSITIVE_INFINITY ? 1 : 2 };
  });

describe('ConvoyMerge properties', () => {
  test('with every marker delivered, output is the input minus filtered events, in order, with no timeout', () => {
    fc.assert(
      fc.property(convoyScenario, (s) => {
        const out = new RecordingOutput<Ev>();
        const merge = new ConvoyMerge<Ev>({ subStreams: s.n0, timeout: Number.POSITIVE_INFINITY }, out);
        const heads = s.queues.map(() => 0);
        let p = 0;
        for (;;) {
          const live = heads.map((h, q) => (h < (s.queues[q] as Item[]).length ? q : -1)).filter((q) => q >= 0);
          if (live.length === 0) break;
          const q = live[(s.picks[p++ % s.picks.length] as number) % live.length] as number;
          const at = heads[q] as number;
          heads[q] = at + 1;
          const item = (s.queues[q] as Item[])[at] as Item;
          if (item.kind === 'data') merge.insert('p', { seq: item.seq }, 0);
          else merge.onProgress('p', item.marker);
        }
        const delivered = out.calls.map((c) => (c.kind === 'deliver' ? c.event.seq : `${c.kind}`));
        assert.deepEqual(delivered, s.kept);
        assert.equal(merge.size, 0);
        const c = merge.counters;
        assert.equal(c.gapsClosedByTimeout, 0);
        assert.equal(c.duplicates + c.lateEmitted + c.lateRouted + c.lateDropped, 0);
        assert.equal(merge.provenFloor('p'), s.n - 1);
        assert.equal(c.epochsStarted, s.epochs);
      }),
      { numRuns: 200 },
    );
  });
});
