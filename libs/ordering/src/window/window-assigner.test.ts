import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hoppingWindows, latestWindowStart, tumblingWindows } from './window-assigner.ts';
import { parseWindowResultKey, windowResultKey } from './window-result-key.ts';

test('tumbling windows are [start, start + size), one per event, negative times included', () => {
  const w = tumblingWindows({ size: 10 });
  assert.deepEqual(w.assignWindows(0), [{ start: 0, end: 10 }]);
  assert.deepEqual(w.assignWindows(9), [{ start: 0, end: 10 }]);
  assert.deepEqual(w.assignWindows(10), [{ start: 10, end: 20 }]);
  assert.deepEqual(w.assignWindows(-1), [{ start: -10, end: 0 }]);
});

test('tumbling windows with an offset start at offset + k·size', () => {
  const w = tumblingWindows({ size: 10, offset: 3 });
  assert.deepEqual(w.assignWindows(2), [{ start: -7, end: 3 }]);
  assert.deepEqual(w.assignWindows(3), [{ start: 3, end: 13 }]);
  assert.equal(latestWindowStart(12, 10, 3), 3);
});

test('hopping windows list every containing window, oldest first', () => {
  const w = hoppingWindows({ size: 10, slide: 5 });
  assert.deepEqual(w.assignWindows(7), [
    { start: 0, end: 10 },
    { start: 5, end: 15 },
  ]);
  assert.deepEqual(w.assignWindows(4), [
    { start: -5, end: 5 },
    { start: 0, end: 10 },
  ]);
  assert.deepEqual(hoppingWindows({ size: 10, slide: 3 }).assignWindows(10), [
    { start: 3, end: 13 },
    { start: 6, end: 16 },
    { start: 9, end: 19 },
  ]);
});

test('bad window options throw ORDERING_INVALID_OPTION', () => {
  assert.throws(() => hoppingWindows({ size: 10, slide: 11 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => hoppingWindows({ size: 0, slide: 1 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => tumblingWindows({ size: 10, offset: 10 }), { code: 'ORDERING_INVALID_OPTION' });
  assert.throws(() => tumblingWindows({ size: 1.5 }), { code: 'ORDERING_INVALID_OPTION' });
});

test('window result keys are stable and parse back even when the key contains |', () => {
  assert.equal(windowResultKey('eu-west', 60000, 120000), 'eu-west|60000|120000');
  assert.deepEqual(parseWindowResultKey('a|b|-10|0'), { key: 'a|b', windowStart: -10, windowEnd: 0 });
  assert.equal(parseWindowResultKey('no-bars'), undefined);
  assert.equal(parseWindowResultKey('k||5'), undefined);
});
