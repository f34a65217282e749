import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConvoyRecord, OutgoingRecord } from '@convoy/kafka';
import { hoppingWindows } from '@convoy/ordering';
import { decodeChangelogTail } from './changelog.ts';
import {
  DispatchPartitionHandler,
  WindowPartitionHandler,
  type DispatchPartitionState,
  type WindowPartitionState,
} from './aggregator-handler.ts';
import { dispatchOptions, INPUT, Input, Recorder, windowOptions } from './test-records.ts';

const agg = (count: number, sum: number, min: number, max: number) => ({ count, sum, min, max });

/** Result records as [key, kind header, version header, value]. */
function results(sent: readonly OutgoingRecord[]): unknown[] {
  return sent
    .filter((r) => r.topic === 'out')
    .map((r) => [r.key, r.headers?.['convoy-result-kind']?.toString(), r.headers?.['convoy-result-version']?.toString(), JSON.parse(String(r.value))]);
}

/** The changelog records of `sent` as consumed records, for decodeChangelogTail. */
function asConsumed(sent: readonly OutgoingRecord[]): ConvoyRecord[] {
  return sent
    .filter((r) => r.topic === 'cl')
    .map((r, offset) => ({
      topic: 'cl',
      partition: r.partition ?? 0,
      offset,
      timestamp: 0,
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      headers: r.headers ?? {},
    }));
}

describe('WindowPartitionHandler', () => {
  test('worked timeline: finals at the watermark, a correction with version and previous, retirement, then late', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions());
    const out = new Recorder();
    h.onRecords([input.order('eu', 10_000, 20), input.order('eu', 50_000, 35), input.order('us', 30_000, 12), input.watermark(59_998)], out, 0);
    assert.deepEqual(results(out.sent), []);
    assert.equal(out.on('cl').length, 1, 'one changelog write per unit');
    out.clear();

    h.onRecords([input.watermark(59_999)], out, 0);
    assert.deepEqual(results(out.sent), [
      ['eu|0|60000', 'final', '1', { key: 'eu', windowStart: 0, windowEnd: 60_000, ...agg(2, 55, 20, 35), version: 1, kind: 'final' }],
      ['us|0|60000', 'final', '1', { key: 'us', windowStart: 0, windowEnd: 60_000, ...agg(1, 12, 12, 12), version: 1, kind: 'final' }],
    ]);
    assert.equal(out.sent.at(-1)?.topic, 'cl', 'the changelog write comes after the results of its unit');
    out.clear();

    h.onRecords([input.order('eu', 70_000, 8), input.order('eu', 55_000, 5)], out, 0);
    assert.deepEqual(results(out.sent), [
      [
        'eu|0|60000',
        'correction',
        '2',
        { key: 'eu', windowStart: 0, windowEnd: 60_000, ...agg(3, 60, 5, 35), version: 2, kind: 'correction', previous: agg(2, 55, 20, 35) },
      ],
    ]);
    out.clear();

    h.onRecords([input.watermark(89_999)], out, 0);
    assert.deepEqual(results(out.sent), []);
    assert.equal(h.openWindows, 1, 'both [0, 60000) windows retired');
    const late = input.order('eu', 58_000, 7);
    h.onRecords([late], out, 0);
    assert.deepEqual(results(out.sent), []);
    const [lateOut] = out.on('out.late');
    assert.equal(lateOut?.key?.toString(), 'eu');
    assert.deepEqual(lateOut?.value, late.value);
    assert.equal(lateOut?.headers?.['convoy-late-reason']?.toString(), 'window-retired');
    assert.deepEqual(JSON.parse(String(lateOut?.headers?.['convoy-late-windows'])), [{ windowStart: 0, windowEnd: 60_000, reason: 'window-retired' }]);
    assert.equal(lateOut?.headers?.['convoy-event-time']?.toString(), '58000', 'original headers kept');
    out.clear();

    h.onRecords([input.watermark(119_999)], out, 0);
    assert.deepEqual(results(out.sent), [
      ['eu|60000|120000', 'final', '1', { key: 'eu', windowStart: 60_000, windowEnd: 120_000, ...agg(1, 8, 8, 8), version: 1, kind: 'final' }],
    ]);
    assert.deepEqual(h.counters.results, { early: 0, final: 3, correction: 1 });
    assert.equal(h.counters.lateEvents['window-retired'], 1);
    assert.equal(h.counters.watermarksIn, 4);
    assert.equal(h.counters.dataIn, 6);
  });

  test('watermark value may come in convoy-seq or convoy-event-time', () => {
    for (const header of ['convoy-seq', 'convoy-event-time']) {
      const input = new Input();
      const h = new WindowPartitionHandler(INPUT, windowOptions());
      const out = new Recorder();
      h.onRecords([input.order('eu', 1_000, 1), input.watermark(59_999, header)], out, 0);
      assert.deepEqual(results(out.sent).map((r) => (r as unknown[])[0]), ['eu|0|60000'], header);
    }
  });

  test('bounded watermark: max event time − bound; watermark records ignored in bounded mode', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions({ watermark: 'bounded', maxOutOfOrderMs: 10_000 }));
    const out = new Recorder();
    h.onRecords([input.order('eu', 10_000, 1), input.watermark(1_000_000), input.order('eu', 69_999, 2)], out, 0);
    assert.deepEqual(results(out.sent), [], 'watermark 59 999 (strict): the window end 60 000 not passed');
    assert.equal(h.counters.ignored, 1);
    h.onRecords([input.order('eu', 50_000, 3), input.order('eu', 70_000, 4)], out, 0);
    assert.deepEqual(results(out.sent), [
      ['eu|0|60000', 'final', '1', { key: 'eu', windowStart: 0, windowEnd: 60_000, ...agg(2, 4, 1, 3), version: 1, kind: 'final' }],
    ]);
    assert.equal(h.watermark, 60_000);
  });

  test('early firings by event count, then final and correction continue the versions', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions({ earlyEveryEvents: 2 }));
    const out = new Recorder();
    h.onRecords([input.order('eu', 1, 1), input.order('eu', 2, 2), input.order('eu', 3, 3), input.watermark(59_999), input.order('eu', 4, 4)], out, 0);
    assert.deepEqual(
      results(out.sent).map((r) => (r as unknown[]).slice(0, 3)),
      [
        ['eu|0|60000', 'early', '1'],
        ['eu|0|60000', 'final', '2'],
        ['eu|0|60000', 'correction', '3'],
      ],
    );
  });

  test('early firings by time run on ticks and write the changelog only when they emitted', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions({ earlyEveryMs: 1_000 }));
    const out = new Recorder();
    h.onRecords([input.order('eu', 1, 5)], out, 0);
    out.clear();
    h.onTick(10_000, out);
    assert.deepEqual(results(out.sent).map((r) => (r as unknown[]).slice(0, 3)), [['eu|0|60000', 'early', '1']]);
    assert.equal(out.on('cl').length, 1);
    out.clear();
    h.onTick(20_000, out);
    assert.deepEqual(out.sent, [], 'nothing changed: no result, no changelog write');
  });

  test('hopping windows: a partly-late event is counted in its newer window and reported late for the older', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions({ windows: hoppingWindows({ size: 60_000, slide: 30_000 }), allowedLateness: 0 }));
    const out = new Recorder();
    h.onRecords([input.order('eu', 40_000, 1), input.watermark(59_999), input.order('eu', 45_000, 2)], out, 0);
    assert.deepEqual(results(out.sent).map((r) => (r as unknown[]).slice(0, 3)), [['eu|0|60000', 'final', '1']]);
    assert.deepEqual(JSON.parse(String(out.on('out.late')[0]?.headers?.['convoy-late-windows'])), [
      { windowStart: 0, windowEnd: 60_000, reason: 'window-retired' },
    ]);
    out.clear();
    h.onRecords([input.watermark(89_999)], out, 0);
    assert.deepEqual(results(out.sent).map((r) => (r as unknown[]).slice(0, 4)), [
      ['eu|30000|90000', 'final', '1', { key: 'eu', windowStart: 30_000, windowEnd: 90_000, ...agg(2, 3, 1, 2), version: 1, kind: 'final' }],
    ]);
  });

  test('bad records go to the dead-letter topic with reason headers; ignored kinds are counted', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions());
    const out = new Recorder();
    h.onRecords(
      [
        input.event(null, 1, { amount: 1 }),
        input.event('eu', 1, 'not json'),
        input.event('eu', 1, { price: 3 }),
        input.raw('eu', JSON.stringify({ amount: 1 }), {}),
        input.raw(null, null, { 'convoy-kind': 'watermark' }),
        input.raw(null, null, { 'convoy-kind': 'watermark', 'convoy-watermark': 'soon' }),
        input.raw(null, null, { 'convoy-kind': 'bogus' }),
        input.raw(null, null, { 'convoy-kind': 'progress', 'convoy-seq': '3', 'convoy-source': 'x/0' }),
        input.order('eu', 1, 1),
      ],
      out,
      0,
    );
    assert.deepEqual(
      out.on('dlq').map((r) => [r.headers?.['convoy-error-code']?.toString(), r.headers?.['convoy-error-stage']?.toString(), r.headers?.['__connect.errors.offset']?.toString()]),
      [
        ['AGGREGATOR_MISSING_KEY', 'aggregator', '0'],
        ['AGGREGATOR_UNDECODABLE', 'aggregator', '1'],
        ['AGGREGATOR_MISSING_VALUE', 'aggregator', '2'],
        ['AGGREGATOR_MISSING_EVENT_TIME', 'aggregator', '3'],
        ['AGGREGATOR_BAD_WATERMARK', 'aggregator', '4'],
        ['AGGREGATOR_BAD_WATERMARK', 'aggregator', '5'],
        ['ENVELOPE_MALFORMED', 'aggregator', '6'],
      ],
    );
    assert.equal(h.counters.deadLettered, 7);
    assert.equal(h.counters.ignored, 1);
    assert.equal(h.counters.dataIn, 1);
    assert.equal(h.openWindows, 1);
  });

  test('key and event time from payload fields; no value field counts 1 per event', () => {
    const input = new Input();
    const { valueField: _unused, ...options } = windowOptions({ key: { kind: 'field', path: 'order.region' }, eventTime: { kind: 'field', path: 'at' } });
    const h = new WindowPartitionHandler(INPUT, options);
    const out = new Recorder();
    h.onRecords([input.raw(null, JSON.stringify({ order: { region: 'eu' }, at: '1970-01-01T00:00:01.000Z' }), {}), input.watermark(59_999)], out, 0);
    assert.deepEqual(results(out.sent), [['eu|0|60000', 'final', '1', { key: 'eu', windowStart: 0, windowEnd: 60_000, ...agg(1, 1, 1, 1), version: 1, kind: 'final' }]]);
  });

  test('restore from the changelog at every cut point continues exactly (no version twice, no window lost)', () => {
    const trace = (input: Input) => [
      input.order('eu', 10_000, 20),
      input.order('us', 30_000, 12),
      input.watermark(59_999),
      input.order('eu', 55_000, 5),
      input.order('eu', 70_000, 8),
      input.order('us', 50_000, 1),
      input.watermark(89_999),
      input.order('eu', 58_000, 7),
      input.order('eu', 100_000, 2),
      input.watermark(119_999),
    ];
    const options = windowOptions({ chunkBytes: 1024 });
    const whole = new Recorder();
    const reference = new WindowPartitionHandler(INPUT, options);
    for (const record of trace(new Input())) reference.onRecords([record], whole, 0);
    const expected = whole.sent.filter((r) => r.topic !== 'cl');
    for (let cut = 0; cut <= 10; cut++) {
      const records = trace(new Input());
      const out = new Recorder();
      const first = new WindowPartitionHandler(INPUT, options);
      for (const record of records.slice(0, cut)) first.onRecords([record], out, 0);
      const tail = decodeChangelogTail(asConsumed(out.sent), INPUT, true);
      const restored = tail.kind === 'state' ? (tail.state as WindowPartitionState) : undefined;
      assert.equal(tail.kind, cut === 0 ? 'empty' : 'state');
      const second = new WindowPartitionHandler(INPUT, options, restored);
      // The processor replays from the committed offset; a replayed record below it is skipped.
      second.onRecords(records.slice(Math.max(0, cut - 1)), out, 0);
      assert.deepEqual(out.sent.filter((r) => r.topic !== 'cl'), expected, `cut at ${cut}`);
      if (cut > 0) assert.equal(second.counters.duplicates, 1);
    }
  });

  test('a restore with other window settings is refused', () => {
    const input = new Input();
    const h = new WindowPartitionHandler(INPUT, windowOptions());
    h.onRecords([input.order('eu', 1, 1)], new Recorder(), 0);
    assert.throws(() => new WindowPartitionHandler(INPUT, windowOptions({ allowedLateness: 5 }), h.snapshot()), { code: 'AGGREGATOR_STATE_INCOMPATIBLE' });
    assert.throws(() => new WindowPartitionHandler(INPUT, windowOptions(), { ...h.snapshot(), mode: 'dispatch' } as never), { code: 'AGGREGATOR_STATE_INCOMPATIBLE' });
  });
});

function dispatched(sent: readonly OutgoingRecord[]): unknown[] {
  return sent.filter((r) => r.topic === 'out').map((r) => [r.key, r.headers?.['convoy-dispatch-kind']?.toString(), JSON.parse(String(r.value))]);
}

describe('DispatchPartitionHandler', () => {
  test('first accept wins; later accepts are cancelled, addressed to their driver; the winner repeating is a duplicate', () => {
    const input = new Input();
    const h = new DispatchPartitionHandler(INPUT, dispatchOptions());
    const out = new Recorder();
    h.onRecords([input.accept('ride-1', 'ann', 1_000, 4_000), input.accept('ride-1', 'bo', 1_000, 4_200), input.accept('ride-1', 'ann', 1_000, 5_000)], out, 0);
    h.onRecords([input.accept('ride-1', 'cy', 1_000, 310_000), input.accept('ride-2', 'bo', 300_000, 310_001)], out, 0);
    assert.deepEqual(dispatched(out.sent), [
      ['ann', 'assignment', { type: 'assignment', requestId: 'ride-1', driverId: 'ann', requestTime: 1_000, acceptTime: 4_000 }],
      ['bo', 'cancellation', { type: 'cancellation', requestId: 'ride-1', driverId: 'bo', acceptTime: 4_200, reason: 'already-assigned' }],
      ['cy', 'cancellation', { type: 'cancellation', requestId: 'ride-1', driverId: 'cy', acceptTime: 310_000, reason: 'expired' }],
      ['bo', 'assignment', { type: 'assignment', requestId: 'ride-2', driverId: 'bo', requestTime: 300_000, acceptTime: 310_001 }],
    ]);
    assert.equal(out.on('out').find((r) => r.headers?.['convoy-dispatch-kind']?.toString() === 'cancellation')?.headers?.['convoy-dispatch-reason']?.toString(), 'already-assigned');
    assert.equal(h.counters.dispatchDuplicates, 1);
    assert.equal(h.counters.assignments, 2);
    assert.deepEqual(h.counters.cancellations, { 'already-assigned': 1, expired: 1, overloaded: 0 });
    assert.equal(out.on('cl').length, 2);
  });

  test('bad accepts are dead-lettered', () => {
    const input = new Input();
    const h = new DispatchPartitionHandler(INPUT, dispatchOptions());
    const out = new Recorder();
    h.onRecords([input.raw('r', 'nope', {}), input.raw('r', JSON.stringify({ requestId: 'r', requestTime: 1 }), {})], out, 0);
    assert.deepEqual(out.on('dlq').map((r) => [r.headers?.['convoy-error-code']?.toString(), r.headers?.['convoy-error-message']?.toString()]), [
      ['AGGREGATOR_UNDECODABLE', 'the accept is not JSON'],
      ['AGGREGATOR_BAD_ACCEPT', 'the accept lacks driverId'],
    ]);
  });

  test('restore continues decisions: no second assignment after a restart', () => {
    const input = new Input();
    const out = new Recorder();
    const first = new DispatchPartitionHandler(INPUT, dispatchOptions());
    first.onRecords([input.accept('ride-1', 'ann', 1_000, 4_000)], out, 0);
    const tail = decodeChangelogTail(asConsumed(out.sent), INPUT, true);
    assert.equal(tail.kind, 'state');
    const second = new DispatchPartitionHandler(INPUT, dispatchOptions(), (tail as { state: DispatchPartitionState }).state);
    out.clear();
    second.onRecords([input.accept('ride-1', 'bo', 1_000, 4_100)], out, 0);
    assert.deepEqual(dispatched(out.sent), [
      ['bo', 'cancellation', { type: 'cancellation', requestId: 'ride-1', driverId: 'bo', acceptTime: 4_100, reason: 'already-assigned' }],
    ]);
  });
});
