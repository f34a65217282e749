import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedOutOfOrderness } from './bounded-out-of-orderness.ts';
import { RecordingOutput } from './recording-output.ts';

test('no watermark before the first event', () => {
  const g = new BoundedOutOfOrderness(10);
  const out = new RecordingOutput();
  g.onPeriodicEmit(out, 0);
  assert.deepEqual(out.take(), []);
  assert.equal(g.currentWatermark, Number.NEGATIVE_INFINITY);
});

test('watermark = max event time − bound − 1, emitted only when it advances', () => {
  const g = new BoundedOutOfOrderness(10);
  const out = new RecordingOutput();
  g.onEvent(100, 0);
  g.onEvent(95, 0);
  g.onPeriodicEmit(out, 200);
  assert.deepEqual(out.take(), ['wm:89']);
  g.onEvent(99, 250); // not a new maximum
  g.onPeriodicEmit(out, 400);
  assert.deepEqual(out.take(), []);
  g.onEvent(130, 450);
  g.onEvent(120, 460);
  g.onPeriodicEmit(out, 600);
  assert.deepEqual(out.take(), ['wm:119']);
});

test('bound 0 promises nothing at or below maxTs − 1', () => {
  const g = new BoundedOutOfOrderness(0);
  const out = new RecordingOutput();
  g.onEvent(7, 0);
  g.onPeriodicEmit(out, 0);
  assert.deepEqual(out.take(), ['wm:6']);
});

test('rejects a negative bound', () => {
  assert.throws(() => new BoundedOutOfOrderness(-1), { code: 'ORDERING_INVALID_OPTION' });
});
