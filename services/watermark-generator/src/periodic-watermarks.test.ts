import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogicalWatermarks, TimeWatermarks, watermarkRecords } from './periodic-watermarks.ts';

test('time mode: now − max out-of-orderness, never backwards when the clock steps back', () => {
  const t = new TimeWatermarks(500);
  assert.equal(t.watermarkAt(10_000), 9_500);
  assert.equal(t.watermarkAt(11_000), 10_500);
  assert.equal(t.watermarkAt(10_200), 10_500);
});

test('logical mode: the watermark is the last number handed out at least lagMs ago', () => {
  const l = new LogicalWatermarks({ lagMs: 1_000 });
  l.observe(0, 0); // start: nothing handed out yet
  assert.equal(l.watermarkAt(500), undefined);
  l.observe(7, 500);
  assert.equal(l.watermarkAt(999), undefined);
  assert.equal(l.watermarkAt(1_000), 0);
  l.observe(20, 1_000);
  assert.equal(l.watermarkAt(1_499), 0);
  assert.equal(l.watermarkAt(1_500), 7);
  assert.equal(l.watermarkAt(2_000), 20);
  assert.equal(l.watermarkAt(9_000), 20, 'holds when nothing new is handed out');
});

test('logical mode after a restart starts from the recovered bound, not from 0', () => {
  const l = new LogicalWatermarks({ lagMs: 200 });
  l.observe(3_000, 50_000);
  assert.equal(l.watermarkAt(50_100), undefined);
  assert.equal(l.watermarkAt(50_200), 3_000);
});

test('logical mode stays bounded and only delays when thinned', () => {
  const l = new LogicalWatermarks({ lagMs: 100, maxSnapshots: 3 });
  for (let t = 0; t < 10; t++) l.observe(t * 10, t);
  assert.equal(l.thinned, 7);
  assert.equal(l.watermarkAt(100), 0); // snapshot at t=0
  assert.equal(l.watermarkAt(109), 90); // newest kept
});

test('one record per partition of every topic, carrying the mode\'s header', () => {
  const records = watermarkRecords(new Map([['a', 2], ['b', 1]]), 'logical', 42, 1_000);
  assert.deepEqual(
    records.map((r) => [r.topic, r.partition, r.key, r.headers?.['convoy-kind']?.toString(), r.headers?.['convoy-seq']?.toString(), r.timestamp]),
    [
      ['a', 0, null, 'watermark', '42', 1_000],
      ['a', 1, null, 'watermark', '42', 1_000],
      ['b', 0, null, 'watermark', '42', 1_000],
    ],
  );
  const timed = watermarkRecords(new Map([['a', 1]]), 'time', -5, 7);
  assert.equal(timed[0]?.headers?.['convoy-event-time']?.toString(), '-5');
  assert.equal(timed[0]?.headers?.['convoy-seq'], undefined);
});
