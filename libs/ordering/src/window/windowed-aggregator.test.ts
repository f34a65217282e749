import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoppingWindows, tumblingWindows } from './window-assigner.ts';
import {
  WindowedAggregator,
  type LateWindowEvent,
  type WindowOutput,
  type WindowResult,
  type WindowSnapshot,
} from './windowed-aggregator.ts';

function recorder(): { results: WindowResult[]; late: LateWindowEvent[]; output: WindowOutput; take(): WindowResult[] } {
  const results: WindowResult[] = [];
  const late: LateWindowEvent[] = [];
  return {
    results,
    late,
    output: { emitResult: (r) => results.push(r), emitLate: (e) => late.push(e) },
    take() {
      return results.splice(0);
    },
  };
}

const agg = (count: number, sum: number, min: number, max: number) => ({ count, sum, min, max });

test('nothing is emitted before the watermark reaches the window end; then one final per window, ordered by end then key', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }) });
  assert.equal(w.onEvent('b', 3, 1, out.output), 'counted');
  w.onEvent('a', 1, 5, out.output);
  w.onEvent('a', 4, 2, out.output);
  w.onEvent('a', 12, 7, out.output);
  w.onWatermark(9, out.output);
  assert.deepEqual(out.take(), []);
  w.onWatermark(10, out.output);
  assert.deepEqual(out.take(), [
    { key: 'a', windowStart: 0, windowEnd: 10, value: agg(2, 7, 2, 5), version: 1, kind: 'final' },
    { key: 'b', windowStart: 0, windowEnd: 10, value: agg(1, 1, 1, 1), version: 1, kind: 'final' },
  ]);
  w.onWatermark(19, out.output);
  assert.deepEqual(out.take(), []);
  w.onWatermark(25, out.output);
  assert.deepEqual(out.take(), [
    { key: 'a', windowStart: 10, windowEnd: 20, value: agg(1, 7, 7, 7), version: 1, kind: 'final' },
  ]);
  assert.equal(w.openWindowCount, 0);
  assert.deepEqual(out.late, []);
});

test('a watermark that does not advance is ignored', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 100 });
  w.onWatermark(50, out.output);
  w.onWatermark(20, out.output);
  assert.equal(w.currentWatermark, 50);
});

test('hopping windows each get their own final', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: hoppingWindows({ size: 10, slide: 5 }) });
  w.onEvent('k', 7, 3, out.output);
  w.onEvent('k', 12, 4, out.output);
  w.onWatermark(15, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(1, 3, 3, 3), version: 1, kind: 'final' },
    { key: 'k', windowStart: 5, windowEnd: 15, value: agg(2, 7, 3, 4), version: 1, kind: 'final' },
  ]);
});

test('early firing every n events; the final carries the last early value as previous', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), earlyEveryEvents: 2 });
  w.onEvent('k', 1, 1, out.output);
  assert.deepEqual(out.take(), []);
  w.onEvent('k', 2, 2, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(2, 3, 1, 2), version: 1, kind: 'early' },
  ]);
  w.onEvent('k', 3, 3, out.output);
  assert.deepEqual(out.take(), []);
  w.onWatermark(10, out.output);
  assert.deepEqual(out.take(), [
    {
      key: 'k',
      windowStart: 0,
      windowEnd: 10,
      value: agg(3, 6, 1, 3),
      version: 2,
      kind: 'final',
      previous: agg(2, 3, 1, 2),
    },
  ]);
});

test('early firing every t ms by the passed-in clock, only for windows that changed', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), earlyEveryMs: 1000 });
  w.onEvent('k', 1, 4, out.output);
  w.onPeriodicEmit(0, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(1, 4, 4, 4), version: 1, kind: 'early' },
  ]);
  w.onEvent('k', 2, 6, out.output);
  w.onPeriodicEmit(999, out.output);
  assert.deepEqual(out.take(), []);
  w.onPeriodicEmit(1000, out.output);
  assert.deepEqual(out.take(), [
    {
      key: 'k',
      windowStart: 0,
      windowEnd: 10,
      value: agg(2, 10, 4, 6),
      version: 2,
      kind: 'early',
      previous: agg(1, 4, 4, 4),
    },
  ]);
  w.onPeriodicEmit(2000, out.output);
  assert.deepEqual(out.take(), []);
  w.onWatermark(10, out.output);
  w.onEvent('k', 11, 1, out.output);
  w.onPeriodicEmit(3000, out.output);
  assert.deepEqual(
    out.take().map((r) => [r.windowStart, r.version, r.kind]),
    [
      [0, 3, 'final'],
      [10, 1, 'early'],
    ],
  );
});

test('a late event within the allowed lateness emits a correction with version and previous; after it, the window is retired', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 5 });
  w.onEvent('k', 1, 10, out.output);
  w.onWatermark(10, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(1, 10, 10, 10), version: 1, kind: 'final' },
  ]);
  assert.equal(w.onEvent('k', 8, 3, out.output), 'counted');
  assert.deepEqual(out.take(), [
    {
      key: 'k',
      windowStart: 0,
      windowEnd: 10,
      value: agg(2, 13, 3, 10),
      version: 2,
      kind: 'correction',
      previous: agg(1, 10, 10, 10),
    },
  ]);
  w.onWatermark(14, out.output);
  w.onEvent('k', 2, 20, out.output);
  assert.deepEqual(out.take(), [
    {
      key: 'k',
      windowStart: 0,
      windowEnd: 10,
      value: agg(3, 33, 3, 20),
      version: 3,
      kind: 'correction',
      previous: agg(2, 13, 3, 10),
    },
  ]);
  assert.equal(w.openWindowCount, 1);
  w.onWatermark(15, out.output);
  assert.equal(w.openWindowCount, 0);
  assert.equal(w.onEvent('k', 9, 1, out.output), 'late');
  assert.deepEqual(out.take(), []);
  assert.deepEqual(out.late, [
    { key: 'k', eventTime: 9, value: 1, countedIn: 0, rejected: [{ windowStart: 0, windowEnd: 10, reason: 'window-retired' }] },
  ]);
  const stats = w.stats;
  assert.equal(stats.corrections, 2);
  assert.equal(stats.finalResults, 1);
  assert.equal(stats.eventsLate, 1);
  assert.equal(stats.rejectedAssignments['window-retired'], 1);
  assert.equal(stats.windowsRetiredByWatermark, 1);
});

test('with zero lateness the window fires and retires on the same watermark', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }) });
  w.onEvent('k', 9, 1, out.output);
  w.onWatermark(10, out.output);
  assert.equal(out.take().length, 1);
  assert.equal(w.openWindowCount, 0);
  assert.equal(w.onEvent('k', 9, 1, out.output), 'late');
});

test('the first event of a window whose end the watermark already passed (within lateness) yields its final at once', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 20 });
  w.onWatermark(25, out.output);
  w.onEvent('k', 3, 2, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(1, 2, 2, 2), version: 1, kind: 'final' },
  ]);
  w.onWatermark(30, out.output);
  assert.equal(w.openWindowCount, 0);
  assert.deepEqual(out.take(), []);
});

test('an event late for one hopping window but not the other is counted once and reported partly late', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: hoppingWindows({ size: 10, slide: 5 }) });
  w.onWatermark(10, out.output);
  assert.equal(w.onEvent('k', 7, 1, out.output), 'partly-late');
  assert.deepEqual(out.late, [
    { key: 'k', eventTime: 7, value: 1, countedIn: 1, rejected: [{ windowStart: 0, windowEnd: 10, reason: 'window-retired' }] },
  ]);
  w.onWatermark(15, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 5, windowEnd: 15, value: agg(1, 1, 1, 1), version: 1, kind: 'final' },
  ]);
  assert.equal(w.stats.eventsPartlyLate, 1);
});

test('overflow retire-oldest: the oldest windows fire early and retire, the floor rejects their stragglers, an older new window is refused', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 100, maxOpenWindows: 2 });
  w.onEvent('a', 1, 1, out.output);
  w.onEvent('b', 11, 2, out.output);
  assert.deepEqual(out.take(), []);
  assert.equal(w.onEvent('c', 21, 3, out.output), 'counted');
  assert.deepEqual(out.take(), [
    { key: 'a', windowStart: 0, windowEnd: 10, value: agg(1, 1, 1, 1), version: 1, kind: 'final' },
  ]);
  assert.equal(w.openWindowCount, 2);
  assert.equal(w.onEvent('a', 5, 9, out.output), 'late');
  assert.equal(w.onEvent('x', 3, 9, out.output), 'late');
  assert.equal(w.onEvent('d', 15, 9, out.output), 'late');
  assert.deepEqual(
    out.late.map((e) => [e.key, e.rejected[0]?.reason]),
    [
      ['a', 'overflow-retired'],
      ['x', 'overflow-retired'],
      ['d', 'overflow-rejected'],
    ],
  );
  assert.equal(w.onEvent('b', 12, 4, out.output), 'counted');
  w.onWatermark(30, out.output);
  assert.deepEqual(
    out.take().map((r) => [r.key, r.windowStart, r.version, r.value.sum]),
    [
      ['b', 10, 1, 6],
      ['c', 20, 1, 3],
    ],
  );
  const stats = w.stats;
  assert.equal(stats.windowsRetiredByOverflow, 1);
  assert.deepEqual(stats.rejectedAssignments, { 'window-retired': 0, 'overflow-retired': 2, 'overflow-rejected': 1 });
});

test('overflow retire-oldest retires an already-final window without emitting it again', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 100, maxOpenWindows: 1 });
  w.onEvent('a', 1, 1, out.output);
  w.onWatermark(10, out.output);
  assert.equal(out.take().length, 1);
  w.onEvent('a', 11, 1, out.output);
  assert.deepEqual(out.take(), []);
  assert.equal(w.openWindowCount, 1);
  assert.equal(w.onEvent('a', 2, 1, out.output), 'late');
  assert.equal(out.late[0]?.rejected[0]?.reason, 'overflow-retired');
});

test('overflow reject-new keeps the open windows and sends the newcomer late', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), maxOpenWindows: 1, overflow: 'reject-new' });
  w.onEvent('a', 1, 1, out.output);
  assert.equal(w.onEvent('b', 2, 1, out.output), 'late');
  assert.deepEqual(out.late, [
    { key: 'b', eventTime: 2, value: 1, countedIn: 0, rejected: [{ windowStart: 0, windowEnd: 10, reason: 'overflow-rejected' }] },
  ]);
  assert.deepEqual(out.take(), []);
  w.onWatermark(10, out.output);
  assert.equal(w.onEvent('b', 12, 1, out.output), 'counted');
  assert.deepEqual(
    out.take().map((r) => r.key),
    ['a'],
  );
});

test('snapshot/restore through JSON: versions continue, open windows survive, nothing is emitted twice', () => {
  const options = { windows: tumblingWindows({ size: 10 }), allowedLateness: 10, earlyEveryEvents: 3 };
  const out = recorder();
  const before = new WindowedAggregator(options);
  before.onEvent('k', 1, 1, out.output);
  before.onEvent('k', 12, 5, out.output);
  before.onWatermark(10, out.output);
  assert.deepEqual(
    out.take().map((r) => [r.windowStart, r.version, r.kind]),
    [[0, 1, 'final']],
  );
  before.onEvent('k', 13, 5, out.output);
  const snapshot = JSON.parse(JSON.stringify(before.snapshot())) as WindowSnapshot;
  assert.deepEqual(snapshot, {
    format: 1,
    windows: { size: 10, slide: 10, offset: 0 },
    allowedLateness: 10,
    watermark: 10,
    retiredThrough: null,
    lastEarlyRoundAt: null,
    open: [
      { key: 'k', start: 0, end: 10, value: agg(1, 1, 1, 1), version: 1, emitted: agg(1, 1, 1, 1), sinceEmit: 0, fired: true },
      { key: 'k', start: 10, end: 20, value: agg(2, 10, 5, 5), version: 0, emitted: null, sinceEmit: 2, fired: false },
    ],
  });

  const after = new WindowedAggregator(options, snapshot);
  assert.equal(after.currentWatermark, 10);
  after.onEvent('k', 2, 4, out.output);
  after.onEvent('k', 14, 1, out.output);
  after.onWatermark(20, out.output);
  assert.deepEqual(out.take(), [
    { key: 'k', windowStart: 0, windowEnd: 10, value: agg(2, 5, 1, 4), version: 2, kind: 'correction', previous: agg(1, 1, 1, 1) },
    { key: 'k', windowStart: 10, windowEnd: 20, value: agg(3, 11, 1, 5), version: 1, kind: 'early' },
    { key: 'k', windowStart: 10, windowEnd: 20, value: agg(3, 11, 1, 5), version: 2, kind: 'final', previous: agg(3, 11, 1, 5) },
  ]);
  assert.equal(after.openWindowCount, 1);
});

test('restore refuses a snapshot taken with other windows or lateness, or malformed', () => {
  const snapshot = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }) }).snapshot();
  assert.throws(() => new WindowedAggregator({ windows: tumblingWindows({ size: 20 }) }, snapshot), {
    code: 'ORDERING_INVALID_SNAPSHOT',
  });
  assert.throws(() => new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), allowedLateness: 1 }, snapshot), {
    code: 'ORDERING_INVALID_SNAPSHOT',
  });
  const bad = { ...snapshot, open: [{ key: 'k', start: 0, end: 10 }] } as unknown as WindowSnapshot;
  assert.throws(() => new WindowedAggregator({ windows: tumblingWindows({ size: 10 }) }, bad), {
    code: 'ORDERING_INVALID_SNAPSHOT',
  });
});

test('bad inputs and options throw coded errors', () => {
  const out = recorder();
  const w = new WindowedAggregator({ windows: tumblingWindows({ size: 10 }) });
  assert.throws(() => w.onEvent('k', 1.5, 1, out.output), { code: 'ORDERING_INVALID_INPUT' });
  assert.throws(() => w.onEvent('k', 1, Number.NaN, out.output), { code: 'ORDERING_INVALID_INPUT' });
  assert.throws(() => w.onWatermark(Number.POSITIVE_INFINITY, out.output), { code: 'ORDERING_INVALID_INPUT' });
  assert.throws(() => new WindowedAggregator({ windows: tumblingWindows({ size: 10 }), maxOpenWindows: 0 }), {
    code: 'ORDERING_INVALID_OPTION',
  });
  assert.equal(w.stats.eventsIn, 0);
});
