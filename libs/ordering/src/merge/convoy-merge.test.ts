import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecordingOutput } from '../reorder/recording-output.ts';
import { ConvoyMerge, type ConvoyMergeOptions } from './convoy-merge.ts';

interface Ev {
  seq: number;
  prev?: number;
}

const seqOf = (e: Ev) => e.seq;

function setup(options: Partial<ConvoyMergeOptions> = {}) {
  const out = new RecordingOutput<Ev>();
  const merge = new ConvoyMerge<Ev>({ subStreams: 2, timeout: 1000, ...options }, out);
  return { merge, out, take: () => out.take(seqOf) };
}

describe('ConvoyMerge', () => {
  test('filtered events are released past as soon as every sub-stream reports past them: no timeout', () => {
    const { merge, take } = setup();
    // seq s goes to sub-stream s % 2; 3 and 6 are filtered by the workers.
    merge.insert('p0', { seq: 0 }, 0);
    merge.insert('p0', { seq: 1 }, 0);
    merge.insert('p0', { seq: 2 }, 0);
    merge.insert('p0', { seq: 4 }, 0);
    merge.insert('p0', { seq: 5 }, 0);
    assert.deepEqual(take(), ['d:p0:0', 'd:p0:1', 'd:p0:2']);
    merge.onProgress('p0', { subStream: 0, upTo: 5 });
    assert.deepEqual(take(), [], 'sub-stream 1 has not reported: 3 may still come');
    merge.onProgress('p0', { subStream: 1, upTo: 5 });
    assert.deepEqual(take(), ['d:p0:4', 'd:p0:5']);
    merge.insert('p0', { seq: 8 }, 1);
    merge.insert('p0', { seq: 7 }, 1);
    merge.onProgress('p0', { subStream: 1, upTo: 9 });
    merge.onProgress('p0', { subStream: 0, upTo: 9 });
    assert.deepEqual(take(), ['d:p0:7', 'd:p0:8']);
    const c = merge.counters;
    assert.equal(c.gapsClosedByTimeout, 0);
    assert.equal(c.gapsClosedByMarker, 3); // 3, 6, and 9 (nothing arrived for it)
    assert.equal(c.markers, 4);
    assert.equal(merge.provenFloor('p0'), 9);
    assert.equal(merge.size, 0);
    merge.deliverExpired(1e9);
    assert.equal(merge.counters.gapsClosedByTimeout, 0);
  });

  test('progress only counts once every sub-stream of the epoch has reported', () => {
    const { merge, take } = setup({ subStreams: 3 });
    merge.insert('p', { seq: 1 }, 0);
    merge.onProgress('p', { subStream: 0, upTo: 10 });
    merge.onProgress('p', { subStream: 2, upTo: 10 });
    assert.deepEqual(take(), []);
    merge.onProgress('p', { subStream: 1, upTo: 0 });
    assert.deepEqual(take(), ['d:p:1']);
  });

  test('a silent sub-stream is skipped by the timeout as last resort; its later arrival follows the late policy', () => {
    const { merge, take } = setup({ timeout: 100, latePolicy: 'route-late' });
    merge.insert('p', { seq: 0 }, 0); // sub 0
    merge.insert('p', { seq: 1 }, 0); // sub 1, which then stops
    merge.insert('p', { seq: 2 }, 10);
    merge.insert('p', { seq: 4 }, 20);
    merge.onProgress('p', { subStream: 0, upTo: 4 });
    assert.deepEqual(take(), ['d:p:0', 'd:p:1', 'd:p:2']);
    assert.equal(merge.nextDeadline(), 120);
    merge.deliverExpired(120);
    assert.deepEqual(take(), ['s:p:3-3:timeout', 'd:p:4']);
    merge.insert('p', { seq: 3 }, 200);
    merge.onProgress('p', { subStream: 1, upTo: 4 });
    assert.deepEqual(take(), ['l:p:3:route-late']);
    assert.equal(merge.counters.gapsClosedByTimeout, 1);
    assert.equal(merge.counters.lateRouted, 1);
  });

  test('fillers from workers close gaps before any marker', () => {
    const { merge, take } = setup();
    merge.insert('p', { seq: 0 }, 0);
    merge.insert('p', { seq: 2 }, 0);
    merge.fill('p', { seq: 1 }, 0);
    assert.deepEqual(take(), ['d:p:0', 'd:p:2']);
  });

  test('epoch change N=2 -> M=3 at seq 6: the new epoch proves nothing below 6; the old one nothing from 6', () => {
    const { merge, take } = setup({ subStreams: 2 });
    for (const seq of [0, 1, 2]) merge.insert('p', { seq }, 0);
    merge.insert('p', { seq: 4 }, 0); // 3 still owed by old sub-stream 1; 5 filtered by old sub-stream 1
    merge.insert('p', { seq: 7 }, 0); // 6 filtered in the new epoch
    merge.onProgress('p', { subStream: 0, upTo: 20 }); // old sub-stream 0 saw everything of its epoch
    const epoch1 = { epoch: 1, subStreams: 3, epochStart: 6 };
    for (const k of [0, 1, 2]) merge.onProgress('p', { ...epoch1, subStream: k, upTo: 7 });
    assert.deepEqual(take(), ['d:p:0', 'd:p:1', 'd:p:2'], 'old sub-stream 1 still owes seqs < 6');
    merge.onProgress('p', { subStream: 1, upTo: 2 });
    assert.deepEqual(take(), []);
    merge.insert('p', { seq: 3 }, 0);
    assert.deepEqual(take(), ['d:p:3', 'd:p:4']);
    merge.onProgress('p', { subStream: 1, upTo: 9 }); // epoch 0 complete: floor jumps to epoch 1's 7
    assert.deepEqual(take(), ['d:p:7']);
    const c = merge.counters;
    assert.equal(c.epochsStarted, 2);
    assert.equal(c.epochsRetired, 1);
    assert.equal(c.gapsClosedByTimeout, 0);
    merge.onProgress('p', { subStream: 0, upTo: 30 });
    assert.equal(merge.counters.staleMarkers, 1);
    assert.equal(merge.provenFloor('p'), 7);
  });

  test('an epoch with fewer sub-streams, progress capped at its end', () => {
    const { merge, take } = setup({ subStreams: 3 });
    merge.insert('p', { seq: 0 }, 0);
    merge.insert('p', { seq: 5 }, 0);
    merge.onProgress('p', { subStream: 0, upTo: 3 });
    merge.onProgress('p', { subStream: 1, upTo: 3 });
    merge.onProgress('p', { subStream: 2, upTo: 2 });
    assert.deepEqual(take(), ['d:p:0']);
    assert.equal(merge.provenFloor('p'), 2);
    merge.onProgress('p', { epoch: 1, subStreams: 1, epochStart: 4, subStream: 0, upTo: 4 });
    assert.deepEqual(take(), [], 'epoch 0 has not finished below 4');
    merge.onProgress('p', { subStream: 2, upTo: 100 });
    // Epoch 0 governs only seqs < 4; epoch 1 has proven 4: 5 is next and released.
    assert.deepEqual(take(), ['d:p:5']);
    assert.equal(merge.provenFloor('p'), 4);
  });

  test('invalid markers throw', () => {
    const { merge } = setup();
    assert.throws(() => merge.onProgress('p', { subStream: 2, upTo: 1 }), { code: 'ORDERING_INVALID_INPUT' });
    merge.onProgress('p', { subStream: 0, upTo: 1 });
    assert.throws(() => merge.onProgress('p', { epoch: 1, subStreams: 2, subStream: 0, upTo: 1 }), {
      code: 'ORDERING_INVALID_INPUT',
    });
    assert.throws(() => merge.onProgress('p', { epoch: 1, epochStart: 5, subStream: 0, upTo: 1 }), {
      code: 'ORDERING_INVALID_INPUT',
    });
  });

  test('resume: replays are duplicates, markers below the resumed seq are no-ops', () => {
    const { merge, take } = setup();
    merge.resume('p', 99);
    merge.insert('p', { seq: 98 }, 0);
    merge.onProgress('p', { subStream: 0, upTo: 50 });
    merge.onProgress('p', { subStream: 1, upTo: 50 });
    merge.insert('p', { seq: 101 }, 0);
    assert.deepEqual(take(), ['x:p:98:duplicate']);
    merge.onProgress('p', { subStream: 0, upTo: 101 });
    merge.onProgress('p', { subStream: 1, upTo: 101 });
    assert.deepEqual(take(), ['d:p:101']);
    assert.equal(merge.lastReleased('p'), 101);
  });

  test('after a restart, a later epoch seen first proves nothing below its start until the floor reaches it', () => {
    const { merge, take } = setup();
    merge.insert('p', { seq: 12 }, 0);
    for (const k of [0, 1]) merge.onProgress('p', { epoch: 3, subStreams: 2, epochStart: 10, subStream: k, upTo: 12 });
    assert.deepEqual(take(), []);
    merge.resume('q', 9);
    merge.insert('q', { seq: 12 }, 0);
    for (const k of [0, 1]) merge.onProgress('q', { epoch: 3, subStreams: 2, epochStart: 10, subStream: k, upTo: 12 });
    assert.deepEqual(take(), ['d:q:12']);
  });

  test('after a restart past an epoch boundary, the old epoch counts as complete: a partial closing round does not hold the new one', () => {
    const { merge, take } = setup();
    merge.resume('p', 12); // everything up to 12 was released before the crash; epoch 1 starts at 10
    merge.onProgress('p', { subStream: 0, upTo: 9 }); // only one old sub-stream's closing marker was re-read
    const epoch1 = { epoch: 1, subStreams: 3, epochStart: 10 };
    merge.insert('p', { seq: 14 }, 0); // 13 filtered
    for (const k of [0, 1, 2]) merge.onProgress('p', { ...epoch1, subStream: k, upTo: 14 });
    assert.deepEqual(take(), ['d:p:14']);
    assert.equal(merge.counters.gapsClosedByTimeout, 0);
    assert.equal(merge.counters.epochsRetired, 1);
  });
});
