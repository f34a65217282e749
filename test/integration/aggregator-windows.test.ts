/**
 * The aggregator against the real broker: a trace with explicit watermark records and known late
 * events yields exactly the expected results and corrections with their versions; after retirement
 * nothing more is emitted and the late events land on the late topic; bad records go to the DLQ.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { produce, readTopic, type ProduceRecord } from '../harness/topics.ts';
import { json, startAggregator } from './aggregator-helpers.ts';

const order = (partition: number, region: string, t: number, amount: number): ProduceRecord => ({
  partition,
  key: region,
  value: JSON.stringify({ region, amount }),
  headers: { 'convoy-event-time': String(t) },
});
const watermark = (partition: number, w: number): ProduceRecord => ({
  partition,
  key: null,
  value: null,
  headers: { 'convoy-kind': 'watermark', 'convoy-watermark': String(w) },
});

test('windowed results, corrections with versions, retirement then late, bad records to the DLQ', async (t) => {
  const run = await startAggregator(t, 2, { AGG_VALUE_FIELD: 'amount', AGG_WINDOW_SIZE_MS: '60000', AGG_ALLOWED_LATENESS_MS: '30000' });
  // Partition 0 carries eu, partition 1 carries us; each partition has its own watermarks.
  await produce(run.input, [
    order(0, 'eu', 10_000, 20),
    order(0, 'eu', 50_000, 35),
    order(1, 'us', 30_000, 12),
    watermark(0, 59_998), // no event ≤ 59 998 follows: the window's last instant may still come
    watermark(1, 59_999),
    order(0, 'eu', 59_999, 1), // on time: counted before the final
    watermark(0, 59_999), // → eu|0|60000 final v1
    order(0, 'eu', 70_000, 8),
    order(0, 'eu', 55_000, 5), // late, within lateness → correction v2
    order(1, 'us', 40_000, 3), // late, within lateness → correction v2
    order(1, 'us', 45_000, 4), // → correction v3
    watermark(0, 89_999), // retires eu|0|60000
    watermark(1, 89_999), // retires us|0|60000
    order(0, 'eu', 58_000, 7), // after retirement → late topic
    order(1, 'us', 1_000, 9), // after retirement → late topic
    { partition: 0, key: null, value: JSON.stringify({ amount: 1 }), headers: { 'convoy-event-time': '61000' } }, // no key
    { partition: 0, key: 'eu', value: 'not json', headers: { 'convoy-event-time': '61000' } },
    { partition: 1, key: 'us', value: JSON.stringify({ price: 2 }), headers: { 'convoy-event-time': '61000' } }, // no amount
    watermark(0, 119_999), // → eu|60000|120000 final v1
  ]);

  const results = await readTopic(run.output, { until: (records) => records.length >= 6, timeoutMs: 30_000 });
  // Give a wrong extra result a chance to show up before asserting on exactly these.
  const settled = await readTopic(run.output, { idleMs: 2_000, timeoutMs: 10_000 });
  assert.equal(settled.length, results.length, 'nothing more after the expected results');
  // Results of different windows hash to different output partitions, read in no fixed
  // interleaving: order by window, then version (within a window, offsets already give version order).
  const ofKey = (key: string) =>
    settled
      .filter((r) => json(r)['key'] === key)
      .sort((a, b) => (json(a)['windowStart'] as number) - (json(b)['windowStart'] as number) || (json(a)['version'] as number) - (json(b)['version'] as number))
      .map((r) => [r.key, r.headers['convoy-result-kind'], r.headers['convoy-result-version'], json(r)]);
  assert.deepEqual(ofKey('eu'), [
    ['eu|0|60000', 'final', '1', { key: 'eu', windowStart: 0, windowEnd: 60_000, count: 3, sum: 56, min: 1, max: 35, version: 1, kind: 'final' }],
    [
      'eu|0|60000',
      'correction',
      '2',
      { key: 'eu', windowStart: 0, windowEnd: 60_000, count: 4, sum: 61, min: 1, max: 35, version: 2, kind: 'correction', previous: { count: 3, sum: 56, min: 1, max: 35 } },
    ],
    ['eu|60000|120000', 'final', '1', { key: 'eu', windowStart: 60_000, windowEnd: 120_000, count: 1, sum: 8, min: 8, max: 8, version: 1, kind: 'final' }],
  ]);
  assert.deepEqual(ofKey('us'), [
    ['us|0|60000', 'final', '1', { key: 'us', windowStart: 0, windowEnd: 60_000, count: 1, sum: 12, min: 12, max: 12, version: 1, kind: 'final' }],
    [
      'us|0|60000',
      'correction',
      '2',
      { key: 'us', windowStart: 0, windowEnd: 60_000, count: 2, sum: 15, min: 3, max: 12, version: 2, kind: 'correction', previous: { count: 1, sum: 12, min: 12, max: 12 } },
    ],
    [
      'us|0|60000',
      'correction',
      '3',
      { key: 'us', windowStart: 0, windowEnd: 60_000, count: 3, sum: 19, min: 3, max: 12, version: 3, kind: 'correction', previous: { count: 2, sum: 15, min: 3, max: 12 } },
    ],
  ]);

  const late = await readTopic(run.late, { until: (records) => records.length >= 2, timeoutMs: 15_000 });
  assert.deepEqual(
    late.map((r) => [r.key, r.headers['convoy-event-time'], r.headers['convoy-late-reason']]).sort(),
    [
      ['eu', '58000', 'window-retired'],
      ['us', '1000', 'window-retired'],
    ],
  );

  const dlq = await readTopic(run.dlq, { until: (records) => records.length >= 3, timeoutMs: 15_000 });
  assert.deepEqual(dlq.map((r) => r.headers['convoy-error-code']).sort(), ['AGGREGATOR_MISSING_KEY', 'AGGREGATOR_MISSING_VALUE', 'AGGREGATOR_UNDECODABLE']);
  assert.ok(dlq.every((r) => r.headers['convoy-error-stage'] === 'aggregator' && r.headers['__connect.errors.topic'] === run.input));

  assert.equal(await run.proc.metric('convoy_aggregator_results_total', { kind: 'final' }), 3);
  assert.equal(await run.proc.metric('convoy_aggregator_corrections_total'), 3);
  assert.equal(await run.proc.metric('convoy_aggregator_late_events_total'), 2);
  assert.equal(await run.proc.metric('convoy_aggregator_dead_letters_total'), 3);
  assert.equal(await run.proc.metric('convoy_aggregator_windows_retired_total', { by: 'watermark' }), 2);
  assert.equal(await run.proc.metric('convoy_aggregator_watermark_min_ms'), 90_000, 'min over partitions: p0 at 120 000, p1 at 90 000');
});
