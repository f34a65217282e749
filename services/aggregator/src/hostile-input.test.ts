import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordBatchBytes } from '@convoy/kafka';
import { DispatchPartitionHandler, WindowPartitionHandler, type WindowHandlerOptions } from './aggregator-handler.ts';
import { eventTimeBoundsOf, loadAggregatorConfig } from './config.ts';
import { outOfBounds } from './sources.ts';
import { dispatchOptions, INPUT, Input, Recorder, windowOptions } from './test-records.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

function windows(overrides: Partial<WindowHandlerOptions> = {}): WindowPartitionHandler {
  return new WindowPartitionHandler(INPUT, windowOptions({ allowedLateness: 0, watermark: 'bounded', eventTimeBounds: { maxFutureMs: HOUR }, ...overrides }));
}

const codes = (out: Recorder) => out.on('dlq').map((r) => [r.headers?.['convoy-error-code']?.toString(), r.headers?.['convoy-error-message']?.toString()]);

describe('aggregator hostile input', () => {
  test('bounded watermark: an event at 8.64e15 is dead-lettered instead of retiring every window', () => {
    const input = new Input();
    const records = [input.order('eu', NOW - 120_000, 5), input.order('eu', 8.64e15, 1), input.order('eu', NOW - 110_000, 7)];
    const unbounded = new Recorder();
    windows({ eventTimeBounds: {} }).onRecords(records, unbounded, NOW);
    assert.equal(unbounded.on('out.late').length, 1, 'without bounds the good event after it is late');

    const out = new Recorder();
    const h = windows();
    h.onRecords(records, out, NOW);
    assert.deepEqual(codes(out), [
      ['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', `event time 8640000000000000 at header:convoy-event-time is more than AGG_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`],
    ]);
    assert.equal(out.on('out.late').length, 0);
    assert.equal(h.watermark, NOW - 110_000);
    assert.equal(h.counters.dataIn, 2);
    assert.deepEqual([...h.counters.deadLetteredByCode], [['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', 1]]);
  });

  test('records watermark: a watermark more than the future bound ahead is dead-lettered; one within it applies', () => {
    const input = new Input();
    const out = new Recorder();
    const h = windows({ watermark: 'records' });
    h.onRecords([input.order('eu', NOW - 90_000, 5), input.watermark(8.64e15), input.watermark(NOW + HOUR)], out, NOW);
    assert.deepEqual(codes(out), [
      ['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', `watermark 8640000000000000 is more than AGG_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`],
    ]);
    assert.equal(h.watermark, NOW + HOUR + 1);
    assert.equal(h.counters.watermarksIn, 1);
  });

  test('unreadable vs missing event time; min and past bounds', () => {
    const input = new Input();
    const out = new Recorder();
    const h = windows({ eventTimeBounds: { min: 946_684_800_000, maxPastMs: 24 * HOUR } });
    h.onRecords(
      [
        input.raw('eu', JSON.stringify({ amount: 1 }), { 'convoy-event-time': 'tomorrow' }),
        input.raw('eu', JSON.stringify({ amount: 1 }), {}),
        input.order('eu', 5, 1),
        input.order('eu', NOW - 24 * HOUR - 1, 1),
        input.order('eu', NOW - 24 * HOUR, 1),
      ],
      out,
      NOW,
    );
    assert.deepEqual(codes(out), [
      ['AGGREGATOR_EVENT_TIME_UNREADABLE', 'header:convoy-event-time holds "tomorrow", not an event time (integer ms or ISO-8601)'],
      ['AGGREGATOR_MISSING_EVENT_TIME', 'no event time at header:convoy-event-time'],
      ['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', 'event time 5 at header:convoy-event-time is before AGG_EVENT_TIME_MIN=946684800000'],
      ['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', `event time ${NOW - 24 * HOUR - 1} at header:convoy-event-time is more than AGG_EVENT_TIME_MAX_PAST_MS=86400000 behind the processing clock ${NOW}`],
    ]);
    assert.equal(h.counters.dataIn, 1);
  });

  test('a dead letter above maxDeadLetterBytes loses its value and keeps its reason', () => {
    const input = new Input();
    const out = new Recorder();
    const h = windows({ maxDeadLetterBytes: 4096 });
    h.onRecords([input.event('eu', 8.64e15, { amount: 1, pad: 'x'.repeat(10_000) }), input.event('eu', 8.64e15, { amount: 1 })], out, NOW);
    const [big, small] = out.on('dlq');
    assert.equal(big?.value, null);
    assert.equal(big?.headers?.['convoy-error-omitted']?.toString(), 'value');
    assert.equal(big?.headers?.['convoy-error-omitted-bytes']?.toString(), 'value=10021');
    assert.equal(big?.headers?.['convoy-error-code']?.toString(), 'AGGREGATOR_EVENT_TIME_OUT_OF_RANGE');
    assert.ok(recordBatchBytes(big!) <= 4096);
    assert.equal(small?.value?.toString(), '{"amount":1}');
    assert.equal(h.counters.deadLettersTrimmed, 1);
  });

  test('dispatch: an accept time far ahead is dead-lettered instead of expiring every request', () => {
    const input = new Input();
    const out = new Recorder();
    const h = new DispatchPartitionHandler(INPUT, dispatchOptions({ retention: 60_000, eventTimeBounds: { maxFutureMs: HOUR } }));
    h.onRecords([input.accept('r1', 'd1', NOW - 10, NOW - 5), input.accept('r2', 'd2', NOW - 10, 8.64e15), input.accept('r1', 'd3', NOW - 10, NOW - 4)], out, NOW);
    assert.deepEqual(codes(out), [['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', `acceptTime 8640000000000000 is more than AGG_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`]]);
    assert.deepEqual(
      out.values('out').map((v) => [(v as { type: string }).type, (v as { driverId: string }).driverId, (v as { reason?: string }).reason]),
      [
        ['assignment', 'd1', undefined],
        ['cancellation', 'd3', 'already-assigned'],
      ],
    );
  });

  test('outOfBounds edges are inclusive', () => {
    assert.equal(outOfBounds(NOW + HOUR, NOW, { maxFutureMs: HOUR }), undefined);
    assert.equal(outOfBounds(NOW + HOUR + 1, NOW, { maxFutureMs: HOUR }), `more than AGG_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`);
    assert.equal(outOfBounds(10, NOW, { min: 10 }), undefined);
  });

  test('config: a 1 h future bound by default; bad values name the setting', () => {
    const base = { KAFKA_BROKERS: '127.0.0.1:9092' };
    assert.deepEqual(eventTimeBoundsOf(loadAggregatorConfig(base)), { maxFutureMs: HOUR });
    assert.deepEqual(
      eventTimeBoundsOf(loadAggregatorConfig({ ...base, AGG_EVENT_TIME_MIN: '2000-01-01T00:00:00Z', AGG_EVENT_TIME_MAX_FUTURE_MS: '0', AGG_EVENT_TIME_MAX_PAST_MS: '24h' })),
      { min: 946_684_800_000, maxPastMs: 86_400_000 },
    );
    assert.throws(() => loadAggregatorConfig({ ...base, AGG_EVENT_TIME_MIN: 'yesterday' }), /AGG_EVENT_TIME_MIN/);
    assert.throws(() => loadAggregatorConfig({ ...base, AGG_EVENT_TIME_MAX_FUTURE_MS: 'later' }), /AGG_EVENT_TIME_MAX_FUTURE_MS/);
  });
});
