import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedOutOfOrderness } from './bounded-out-of-orderness.ts';
import { RecordingOutput } from './recording-output.ts';
import { WithIdleness } from './with-idleness.ts';

test('marks idle after the quiet time, once, and active again after the next event', () => {
  const g = new WithIdleness(new BoundedOutOfOrderness(5), 1000);
  const out = new RecordingOutput();
  g.onEvent(100, 0);
  g.onPeriodicEmit(out, 200);
  assert.deepEqual(out.take(), ['wm:94']);
  g.onPeriodicEmit(out, 999);
  assert.deepEqual(out.take(), []);
  g.onPeriodicEmit(out, 1000);
  assert.deepEqual(out.take(), ['idle']);
  assert.equal(g.idle, true);
  g.onPeriodicEmit(out, 1500);
  assert.deepEqual(out.take(), []);
  g.onEvent(200, 1600);
  g.onPeriodicEmit(out, 1700);
  assert.deepEqual(out.take(), ['active', 'wm:194']);
  assert.equal(g.idle, false);
});

test('with no events at all, quiet time counts from the first periodic emit', () => {
  const g = new WithIdleness(new BoundedOutOfOrderness(5), 500);
  const out = new RecordingOutput();
  g.onPeriodicEmit(out, 10_000);
  g.onPeriodicEmit(out, 10_499);
  assert.deepEqual(out.take(), []);
  g.onPeriodicEmit(out, 10_500);
  assert.deepEqual(out.take(), ['idle']);
});

test('rejects a non-positive idle timeout', () => {
  assert.throws(() => new WithIdleness(new BoundedOutOfOrderness(0), 0), { code: 'ORDERING_INVALID_OPTION' });
});
