import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordBatchBytes, type ConvoyRecord, type OutgoingRecord, type RecordHeaders } from '@convoy/kafka';
import { FixedSlack } from '@convoy/ordering';
import { loadReorderConfig, eventTimeBoundsOf } from './config.ts';
import { outOfBounds, PartitionReorder, type ReorderOptions } from './reorder-handler.ts';
import { reorderOptions } from './test-fixtures.ts';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

function record(offset: number, key: string, timestamp: number, headers: Record<string, string> = {}, value = 'v'): ConvoyRecord {
  const h: RecordHeaders = {};
  for (const [k, v] of Object.entries(headers)) h[k] = Buffer.from(v);
  return { topic: 'in', partition: 0, offset, timestamp, key: Buffer.from(key), value: Buffer.from(value), headers: h };
}

function collect(): { records: OutgoingRecord[]; send(r: OutgoingRecord): void; take(): string[] } {
  const records: OutgoingRecord[] = [];
  return {
    records,
    send: (r) => void records.push(r),
    take() {
      const out = records.map((r) => {
        const h = (n: string) => r.headers?.[n]?.toString();
        if (h('convoy-error-code') !== undefined) return `dlq:${h('convoy-error-code')}`;
        return `${r.topic}:${h('convoy-event-time')}${h('convoy-late') === 'true' ? ':late' : ''}`;
      });
      records.length = 0;
      return out;
    },
  };
}

function timed(over: Partial<ReorderOptions> = {}): PartitionReorder {
  return new PartitionReorder(reorderOptions({ mode: 'event-time', estimator: () => new FixedSlack(0), ...over }));
}

test('event time 8.64e15: without bounds it sends the next good record late; with the default future bound it is dead-lettered', () => {
  const input = [record(0, 's', NOW - 10), record(1, 's', 8.64e15), record(2, 's', NOW - 5)].map((r) => ({ record: r }));
  const unbounded = collect();
  timed().onRecords(input, NOW, unbounded);
  assert.deepEqual(unbounded.take(), [`out:${NOW - 10}`, 'out:8640000000000000', `out.late:${NOW - 5}:late`]);

  const sink = collect();
  const h = timed({ eventTimeBounds: { maxFutureMs: HOUR } });
  h.onRecords(input, NOW, sink);
  const dead = sink.records[1] as OutgoingRecord;
  assert.deepEqual(sink.take(), [`out:${NOW - 10}`, 'dlq:REORDER_EVENT_TIME_OUT_OF_RANGE', `out:${NOW - 5}`]);
  assert.equal(
    dead.headers?.['convoy-error-message']?.toString(),
    `event time 8640000000000000 at timestamp is more than REORDER_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`,
  );
  assert.deepEqual([...h.counters.deadLetteredByCode], [['REORDER_EVENT_TIME_OUT_OF_RANGE', 1]]);
  assert.equal(h.counters.deadLettered, 1);
  assert.equal(h.counters.released, 2);
  assert.equal(h.safeCommitOffset(), 3);
});

test('outOfBounds: min, future and past bounds at the processing clock, each edge inclusive', () => {
  const bounds = { min: 946_684_800_000, maxFutureMs: HOUR, maxPastMs: 7 * 24 * HOUR };
  assert.equal(outOfBounds(NOW + HOUR, NOW, bounds), undefined);
  assert.equal(outOfBounds(NOW + HOUR + 1, NOW, bounds), `more than REORDER_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of the processing clock ${NOW}`);
  assert.equal(outOfBounds(NOW - 7 * 24 * HOUR, NOW, bounds), undefined);
  assert.equal(outOfBounds(NOW - 7 * 24 * HOUR - 1, NOW, bounds), `more than REORDER_EVENT_TIME_MAX_PAST_MS=604800000 behind the processing clock ${NOW}`);
  assert.equal(outOfBounds(5, 1_000, { min: 946_684_800_000 }), 'before REORDER_EVENT_TIME_MIN=946684800000');
  assert.equal(outOfBounds(946_684_800_000, 1_000, { min: 946_684_800_000 }), undefined);
  assert.equal(outOfBounds(8.64e15, NOW, undefined), undefined);
});

test('a watermark more than the future bound ahead is dead-lettered; one within it releases the stream', () => {
  const sink = collect();
  const h = timed({ estimator: () => new FixedSlack(HOUR), eventTimeBounds: { maxFutureMs: HOUR } });
  h.onRecords(
    [
      { record: record(0, 's', NOW - 20) },
      { record: record(1, 's', NOW - 30) },
      { record: record(2, 's', 0, { 'convoy-kind': 'watermark', 'convoy-event-time': '8640000000000000' }) },
      { record: record(3, 's', 0, { 'convoy-kind': 'watermark', 'convoy-event-time': String(NOW - 25) }) },
    ],
    NOW,
    sink,
  );
  assert.deepEqual(sink.take(), ['dlq:REORDER_EVENT_TIME_OUT_OF_RANGE', `out:${NOW - 30}`]);
  assert.equal(h.size, 1);
  assert.equal(h.counters.markersIn, 1);
});

test('an unreadable event time is dead-lettered REORDER_EVENT_TIME_UNREADABLE', () => {
  const sink = collect();
  const h = timed({ eventTimeSource: { kind: 'header', name: 'at' }, eventTimeBounds: { maxFutureMs: HOUR } });
  h.onRecords([{ record: record(0, 's', NOW, { at: '2026-11-26T10:00:00Z' }) }, { record: record(1, 's', NOW) }, { record: record(2, 's', NOW, { at: '1e3' }) }], NOW, sink);
  assert.deepEqual(sink.take(), ['dlq:REORDER_EVENT_TIME_UNREADABLE', 'dlq:REORDER_EVENT_TIME_UNREADABLE', 'dlq:REORDER_EVENT_TIME_UNREADABLE']);
  assert.deepEqual([...h.counters.deadLetteredByCode], [['REORDER_EVENT_TIME_UNREADABLE', 3]]);
});

test('a dead letter larger than maxDeadLetterBytes loses its value, keeps its reason headers', () => {
  const sink = collect();
  const h = timed({ eventTimeBounds: { maxFutureMs: HOUR }, maxDeadLetterBytes: 4096 });
  h.onRecords([{ record: record(0, 's', 8.64e15, {}, 'x'.repeat(10_000)) }], NOW, sink);
  const dead = sink.records[0] as OutgoingRecord;
  assert.equal(dead.value, null);
  assert.equal(dead.key?.toString(), 's');
  assert.equal(dead.headers?.['convoy-error-omitted']?.toString(), 'value');
  assert.equal(dead.headers?.['convoy-error-omitted-bytes']?.toString(), 'value=10000');
  assert.equal(dead.headers?.['convoy-error-code']?.toString(), 'REORDER_EVENT_TIME_OUT_OF_RANGE');
  assert.ok(recordBatchBytes(dead) <= 4096);
  assert.equal(h.counters.deadLettersTrimmed, 1);
  // A small one is left whole.
  h.onRecords([{ record: record(1, 's', 8.64e15) }], NOW, sink);
  assert.equal(sink.records[1]?.value?.toString(), 'v');
  assert.equal(h.counters.deadLettersTrimmed, 1);
});

test('config: event-time bounds default to a 1 h future bound only; bad values name the setting', () => {
  const base = { KAFKA_BROKERS: 'k:9092' };
  assert.deepEqual(eventTimeBoundsOf(loadReorderConfig(base)), { maxFutureMs: HOUR });
  assert.deepEqual(
    eventTimeBoundsOf(loadReorderConfig({ ...base, REORDER_EVENT_TIME_MIN: '2000-01-01T00:00:00Z', REORDER_EVENT_TIME_MAX_FUTURE_MS: '0', REORDER_EVENT_TIME_MAX_PAST_MS: '168h' })),
    { min: 946_684_800_000, maxPastMs: 604_800_000 },
  );
  assert.deepEqual(eventTimeBoundsOf(loadReorderConfig({ ...base, REORDER_EVENT_TIME_MIN: '1000' })), { min: 1000, maxFutureMs: HOUR });
  assert.deepEqual(eventTimeBoundsOf(loadReorderConfig({ ...base, REORDER_EVENT_TIME_MIN: 'none' })), { maxFutureMs: HOUR });
  assert.throws(() => loadReorderConfig({ ...base, REORDER_EVENT_TIME_MIN: 'yesterday' }), /REORDER_EVENT_TIME_MIN/);
  assert.throws(() => loadReorderConfig({ ...base, REORDER_EVENT_TIME_MAX_FUTURE_MS: '-5' }), /REORDER_EVENT_TIME_MAX_FUTURE_MS/);
  assert.throws(() => loadReorderConfig({ ...base, REORDER_EVENT_TIME_MAX_PAST_MS: 'soon' }), /REORDER_EVENT_TIME_MAX_PAST_MS/);
});
