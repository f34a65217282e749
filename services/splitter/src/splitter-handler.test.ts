import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvoyError } from '@convoy/errors';
import type { ConvoyRecord, OutgoingRecord, ProcessorOutput, RecordHeaders } from '@convoy/kafka';
import { compileRules } from './classify.ts';
import { createCounters, SourcePartitionSplitter, SplitterHandler } from './splitter-handler.ts';
import { splitterOptions as options } from './test-fixtures.ts';

const SOURCE = { topic: 'in', partition: 1 };

function rec(offset: number, key: string | null, value: string | null = '{}', headers: Record<string, string> = {}, timestamp = 1_000 + offset): ConvoyRecord {
  const h: RecordHeaders = {};
  for (const [k, v] of Object.entries(headers)) h[k] = Buffer.from(v);
  return { topic: 'in', partition: 1, offset, timestamp, key: key === null ? null : Buffer.from(key), value: value === null ? null : Buffer.from(value), headers: h };
}

class Collect implements ProcessorOutput {
  readonly records: OutgoingRecord[] = [];
  readonly #withMarkers: boolean;
  /** `withMarkers: false` for tests about data and dead letters only. */
  constructor(withMarkers = true) {
    this.#withMarkers = withMarkers;
  }
  send(record: OutgoingRecord): void {
    if (this.#withMarkers || record.headers?.['convoy-kind']?.toString() !== 'progress') this.records.push(record);
  }
  commitUpTo(): void {}
  pause(): void {}
  resume(): void {}
}

/** A record as text for exact comparison: topic, partition, key and every header as text. */
function show(record: OutgoingRecord): { topic: string; partition?: number; key: string | null; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(record.headers ?? {})) {
    if (v !== undefined) headers[k] = k.startsWith('kafka_dlt-original-') && k !== 'kafka_dlt-original-topic' ? `0x${v.toString('hex')}` : v.toString('utf8');
  }
  const out: { topic: string; partition?: number; key: string | null; headers: Record<string, string> } = {
    topic: record.topic,
    key: record.key === null ? null : record.key.toString(),
    headers,
  };
  if (record.partition !== undefined) out.partition = record.partition;
  return out;
}

const data = (partition: number, key: string, seq: number, prev: number | undefined, eventTime: number, extra: Record<string, string> = {}) => ({
  topic: 'subs',
  partition,
  key,
  headers: {
    ...extra,
    'convoy-kind': 'data',
    'convoy-seq': String(seq),
    ...(prev === undefined ? {} : { 'convoy-prev': String(prev) }),
    'convoy-source': 'in/1',
    'convoy-event-time': String(eventTime),
    'convoy-substream': String(partition),
    'convoy-epoch': '0',
  },
});

const markers = (seq: number, count = 4, epoch = 0) =>
  Array.from({ length: count }, (_, k) => ({
    topic: 'subs',
    partition: k,
    key: null,
    headers: {
      'convoy-kind': 'progress',
      'convoy-seq': String(seq),
      'convoy-source': 'in/1',
      'convoy-substream': String(k),
      'convoy-epoch': String(epoch),
      'convoy-substreams': String(count),
    },
  }));

test('a batch becomes data records routed by murmur2(key) mod N with seq = offset and prev links', async () => {
  // Kafka's own murmur2 test vectors: "21" → -973932308, "foobar" → -790332482, "abc" → 479470107,
  // i.e. partitions 0, 2 and 3 of 4.
  const splitter = new SourcePartitionSplitter(options(), SOURCE, 10, createCounters());
  const out = new Collect();
  await splitter.onRecords([rec(10, '21', '{"a":1}', { trace: 't1' }), rec(11, 'foobar'), rec(13, 'abc')], out, 5_000);
  assert.deepEqual(out.records.slice(0, 3).map(show), [
    data(0, '21', 10, 9, 1010, { trace: 't1' }),
    data(2, 'foobar', 11, 10, 1011),
    data(3, 'abc', 13, 11, 1013),
  ]);
  assert.equal(out.records[0]!.value!.toString(), '{"a":1}');
  assert.equal(out.records[0]!.timestamp, 1010);
  // The interval has passed since assignment (no markers yet): markers follow the data in the same unit.
  assert.deepEqual(out.records.slice(3).map(show), markers(13));
  assert.equal(out.records.length, 7);
});

test('prev continues across batches and restarts at offset - 1 after reassignment', async () => {
  const handler = new SplitterHandler(options({}), () => 0);
  await handler.onAssigned(SOURCE);
  const out = new Collect(false);
  await handler.onRecords(SOURCE, [rec(0, 'abc'), rec(1, 'abc')], out, 0);
  await handler.onRecords(SOURCE, [rec(4, 'abc')], out, 1);
  assert.deepEqual(out.records.map((r) => [r.headers!['convoy-seq']?.toString(), r.headers!['convoy-prev']?.toString()]), [
    ['0', undefined],
    ['1', '0'],
    ['4', '1'],
  ]);

  // Reassigned with committed offset 5: first record at 5 links to 4 (= committed - 1) ...
  handler.onRevoked(SOURCE);
  const committed = new Map([['in/1', 5]]);
  const again = new SplitterHandler(options({}), (tp) => committed.get(`${tp.topic}/${tp.partition}`));
  await again.onAssigned(SOURCE);
  const out2 = new Collect(false);
  await again.onRecords(SOURCE, [rec(5, 'abc'), rec(6, 'abc')], out2, 2);
  // ... and when the first record lies beyond the committed offset (e.g. a transaction marker at 7), to offset - 1.
  await again.onAssigned(SOURCE);
  await again.onRecords(SOURCE, [rec(8, 'abc')], out2, 3);
  assert.deepEqual(out2.records.map((r) => [r.headers!['convoy-seq']?.toString(), r.headers!['convoy-prev']?.toString()]), [
    ['5', '4'],
    ['6', '5'],
    ['8', '7'],
  ]);
});

test('every incoming convoy-* header is stripped and counted; others are kept', async () => {
  const counters = createCounters();
  const splitter = new SourcePartitionSplitter(options(), SOURCE, undefined, counters);
  const out = new Collect(false);
  await splitter.onRecords(
    [rec(3, 'abc', '{}', { 'convoy-seq': '999', 'convoy-kind': 'progress', 'convoy-anything': 'x', 'x-convoy-seq': 'kept', traceparent: 'tp' })],
    out,
    0,
  );
  assert.deepEqual(show(out.records[0]!), data(3, 'abc', 3, 2, 1003, { 'x-convoy-seq': 'kept', traceparent: 'tp' }));
  assert.equal(counters.strippedHeaders, 3);
});

test('customer ID from a header and from a payload field (plain JSON), hashed as UTF-8 text', async () => {
  const out = new Collect(false);
  const byHeader = new SourcePartitionSplitter(options({ keySource: { kind: 'header', name: 'customer' } }), SOURCE, undefined, createCounters());
  await byHeader.onRecords([rec(0, 'ignored', '{}', { customer: 'foobar' })], out, 0);
  const byField = new SourcePartitionSplitter(options({ keySource: { kind: 'field', path: 'customer.id' } }), SOURCE, undefined, createCounters());
  await byField.onRecords([rec(1, 'ignored', '{"customer":{"id":"abc"}}'), rec(2, null, '{"customer":{"id":21}}')], out, 0);
  assert.deepEqual(out.records.map((r) => [r.partition, r.key?.toString() ?? null]), [
    [2, 'ignored'],
    [3, 'ignored'],
    [0, null],
  ]);
});

test('an async decoder (Schema Registry framed) is awaited', async () => {
  const out = new Collect(false);
  const decode = async (value: Buffer) => ({ id: value.subarray(5).toString() });
  const splitter = new SourcePartitionSplitter(options({ keySource: { kind: 'field', path: 'id' }, decode }), SOURCE, undefined, createCounters());
  await splitter.onRecords([rec(0, null, '\u0000\u0000\u0000\u0000\u0001abc')], out, 0);
  assert.equal(out.records[0]!.partition, 3);
});

test('event time from the timestamp, a header (ms or ISO) and a payload field; a missing one falls back to the timestamp (counted), an unreadable one is dead-lettered', async () => {
  const counters = createCounters();
  const out = new Collect(false);
  const none = {};
  await new SourcePartitionSplitter(options({ ...none, eventTimeSource: { kind: 'header', name: 'ts' } }), SOURCE, undefined, counters).onRecords(
    [rec(0, 'abc', '{}', { ts: '1700000000123' }), rec(1, 'abc', '{}', { ts: '2024-01-02T03:04:05.006Z' }), rec(2, 'abc', '{}', { ts: 'soon' }), rec(3, 'abc')],
    out,
    0,
  );
  await new SourcePartitionSplitter(options({ ...none, eventTimeSource: { kind: 'field', path: 'at' } }), SOURCE, undefined, counters).onRecords(
    [rec(4, 'abc', '{"at":42}'), rec(5, 'abc', '{"at":"2024-01-02T03:04:05Z"}'), rec(6, 'abc', '{"at":true}')],
    out,
    0,
  );
  assert.deepEqual(
    out.records.map((r) => r.topic === 'dlq' ? `${r.headers!['convoy-error-code']}: ${r.headers!['convoy-error-message']}` : Number(r.headers!['convoy-event-time']!.toString())),
    [
      1700000000123,
      Date.UTC(2024, 0, 2, 3, 4, 5, 6),
      'SPLITTER_EVENT_TIME_UNREADABLE: header ts holds "soon", not an event time (ms since the epoch or ISO-8601)',
      1003,
      42,
      Date.UTC(2024, 0, 2, 3, 4, 5),
      'SPLITTER_EVENT_TIME_UNREADABLE: payload field at holds true, not an event time (ms since the epoch or ISO-8601)',
    ],
  );
  assert.equal(counters.eventTimeFallbacks, 1);
});

const dlqHeaders = (code: string, message: string, offset: number, extra: Record<string, string> = {}) => {
  const hex64 = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;
  return {
    ...extra,
    'convoy-error-code': code,
    'convoy-error-message': message,
    'convoy-error-stage': 'splitter',
    'convoy-error-retriable': 'false',
    '__connect.errors.topic': 'in',
    '__connect.errors.partition': '1',
    '__connect.errors.offset': String(offset),
    '__connect.errors.exception.class.name': 'ConvoyError',
    '__connect.errors.exception.message': `${code}: ${message}`,
    'kafka_dlt-original-topic': 'in',
    'kafka_dlt-original-partition': '0x00000001',
    'kafka_dlt-original-offset': hex64(offset),
    'kafka_dlt-original-timestamp': hex64(1000 + offset),
    'kafka_dlt-exception-message': `${code}: ${message}`,
    'kafka_dlt-exception-fqcn': 'ConvoyError',
  };
};

test('bad records are dead-lettered with exact reason headers and the original bytes; they never block the partition', async () => {
  const counters = createCounters();
  const out = new Collect(false);
  const splitter = new SourcePartitionSplitter(options(), SOURCE, undefined, counters);
  const big = 'x'.repeat(101);
  await splitter.onRecords([rec(0, null, '{}', { 'convoy-seq': '7' }), rec(1, ''), rec(2, 'abc', big), rec(3, 'abc')], out, 0);
  assert.deepEqual(out.records.map(show), [
    { topic: 'dlq', key: null, headers: dlqHeaders('SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at the record key', 0, { 'convoy-seq': '7' }) },
    { topic: 'dlq', key: '', headers: dlqHeaders('SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at the record key', 1) },
    { topic: 'dlq', key: 'abc', headers: dlqHeaders('SPLITTER_VALUE_TOO_LARGE', 'value is 101 bytes, more than SPLITTER_MAX_VALUE_BYTES=100', 2) },
    data(3, 'abc', 3, 2, 1003),
  ]);
  assert.equal(out.records[2]!.value!.toString(), big);
  assert.deepEqual([...counters.deadLettered], [['SPLITTER_MISSING_CUSTOMER_ID', 2], ['SPLITTER_VALUE_TOO_LARGE', 1]]);
  assert.equal(counters.eventsIn, 4);
  assert.deepEqual([...counters.eventsOut], [['subs', 1]]);
});

test('payload-field IDs: undecodable, missing, empty, non-scalar and null values are dead-lettered', async () => {
  const counters = createCounters();
  const out = new Collect(false);
  const splitter = new SourcePartitionSplitter(options({ keySource: { kind: 'field', path: 'id' } }), SOURCE, undefined, counters);
  await splitter.onRecords([rec(0, 'k', '{not json'), rec(1, 'k', '{}'), rec(2, 'k', '{"id":""}'), rec(3, 'k', '{"id":{"a":1}}'), rec(4, 'k', null)], out, 0);
  const reasons = out.records.map((r) => [r.topic, r.headers!['convoy-error-code']!.toString(), r.headers!['convoy-error-message']!.toString()]);
  assert.equal(reasons[0]![1], 'CODEC_DECODE_FAILED');
  assert.match(reasons[0]![2]!, /^payload does not decode: /);
  assert.deepEqual(reasons.slice(1), [
    ['dlq', 'SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at payload field id'],
    ['dlq', 'SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at payload field id'],
    ['dlq', 'SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at payload field id'],
    ['dlq', 'SPLITTER_MISSING_CUSTOMER_ID', 'record has no value to read attributes from'],
  ]);
  assert.equal(counters.deadLettered.get('SPLITTER_MISSING_CUSTOMER_ID'), 4);
});

test("a codec's own error code is kept; a retriable decode error is rethrown (the batch is not half-dead-lettered)", async () => {
  const out = new Collect(false);
  const unknownSchema = new SourcePartitionSplitter(
    options({ keySource: { kind: 'field', path: 'id' }, decode: () => { throw new ConvoyError('CODEC_UNKNOWN_SCHEMA', 'schema 7 not found'); } }),
    SOURCE, undefined, createCounters(),
  );
  await unknownSchema.onRecords([rec(0, 'k')], out, 0);
  assert.equal(out.records[0]!.headers!['convoy-error-code']!.toString(), 'CODEC_UNKNOWN_SCHEMA');
  const registryDown = new SourcePartitionSplitter(
    options({ keySource: { kind: 'field', path: 'id' }, decode: () => Promise.reject(new ConvoyError('CODEC_REGISTRY_UNAVAILABLE', 'down', { retriable: true })) }),
    SOURCE, undefined, createCounters(),
  );
  await assert.rejects(registryDown.onRecords([rec(1, 'k')], new Collect(false), 0), { code: 'CODEC_REGISTRY_UNAVAILABLE' });
});

test('markers by count: after every M records (dead letters included), into every sub-stream, after the data', async () => {
  const counters = createCounters();
  const splitter = new SourcePartitionSplitter(options({ markerEveryEvents: 2 }), SOURCE, undefined, counters);
  const out = new Collect();
  await splitter.onRecords([rec(0, 'abc'), rec(1, null), rec(2, 'foobar'), rec(3, '21'), rec(4, 'abc')], out, 7);
  const trace = out.records.map((r) => `${r.topic}:${r.headers!['convoy-kind']?.toString() ?? 'dlq'}:${r.headers!['convoy-seq']?.toString() ?? ''}`);
  assert.deepEqual(trace, [
    'subs:data:0', 'dlq:dlq:', 'subs:progress:1', 'subs:progress:1', 'subs:progress:1', 'subs:progress:1',
    'subs:data:2', 'subs:data:3', 'subs:progress:3', 'subs:progress:3', 'subs:progress:3', 'subs:progress:3',
    'subs:data:4', // count not reached, and the count markers at now=7 reset the interval
  ]);
  assert.deepEqual(out.records.slice(2, 6).map(show), markers(1));
  assert.equal(out.records[2]!.timestamp, 7);
  assert.equal(counters.markersWritten, 8);
});

test('markers by tick: after the interval when seq moved, and re-sent when idle only after the idle interval', async () => {
  const splitter = new SourcePartitionSplitter(options({ markerIntervalMs: 200, markerIdleIntervalMs: 1000 }), SOURCE, 50, createCounters());
  const seqs = (out: Collect) => out.records.filter((r) => r.headers!['convoy-kind']!.toString() === 'progress').map((r) => Number(r.headers!['convoy-seq']!.toString()));
  // Right after assignment the committed position is announced: S = committed offset - 1.
  let out = new Collect();
  splitter.onTick(out, 0);
  assert.deepEqual(out.records.map(show), markers(49));
  out = new Collect();
  await splitter.onRecords([rec(50, 'abc')], out, 100);
  assert.deepEqual(seqs(out), []); // interval not over: data only
  out = new Collect();
  splitter.onTick(out, 199);
  assert.deepEqual(seqs(out), []);
  splitter.onTick(out, 200);
  assert.deepEqual(seqs(out), [50, 50, 50, 50]);
  out = new Collect();
  splitter.onTick(out, 400); // idle, seq unchanged, last markers recent: nothing
  splitter.onTick(out, 1199);
  assert.deepEqual(seqs(out), []);
  splitter.onTick(out, 1200); // idle heartbeat
  assert.deepEqual(seqs(out), [50, 50, 50, 50]);
  out = new Collect();
  await splitter.onRecords([rec(51, 'abc')], out, 1500); // interval over at the end of a batch: markers in the same unit
  assert.deepEqual(seqs(out), [51, 51, 51, 51]);
});

test('no markers before anything is known about the partition; none in classification mode', async () => {
  const out = new Collect();
  new SourcePartitionSplitter(options(), SOURCE, undefined, createCounters()).onTick(out, 5_000);
  new SourcePartitionSplitter(options(), SOURCE, 0, createCounters()).onTick(out, 5_000);
  const classify = new SourcePartitionSplitter(options({ mode: 'classify', ruleSet: compiled('delivery-tier'), defaultTopic: 'weekly', markerEveryEvents: 1 }), SOURCE, 3, createCounters());
  classify.onTick(out, 5_000);
  await classify.onRecords([rec(3, 'k')], out, 5_000);
  assert.deepEqual(out.records.map((r) => r.topic), ['weekly']);
});

function compiled(text: string) {
  const result = compileRules(text);
  assert.ok(result.ok);
  return result.ruleSet;
}

test('classification mode: delivery tier from grade and amount, first match wins, default otherwise; undecodable dead-lettered', async () => {
  const counters = createCounters();
  const splitter = new SourcePartitionSplitter(
    options({ mode: 'classify', ruleSet: compiled('delivery-tier'), defaultTopic: 'convoy.delivery.weekly' }),
    SOURCE, undefined, counters,
  );
  const out = new Collect();
  const order = (grade: string, amount: number) => JSON.stringify({ customer: { grade }, order: { amount } });
  await splitter.onRecords(
    [rec(0, 'a', order('gold', 150)), rec(1, 'b', order('platinum', 20)), rec(2, 'c', order('basic', 600)), rec(3, 'd', order('basic', 50)), rec(4, 'e', 'nope'), rec(5, 'f', '{}')],
    out,
    0,
  );
  assert.deepEqual(out.records.map((r) => [r.topic, r.partition, r.key?.toString(), r.headers!['convoy-seq']?.toString(), r.headers!['convoy-substream']?.toString()]), [
    ['convoy.delivery.same-day', undefined, 'a', '0', undefined],
    ['convoy.delivery.next-day', undefined, 'b', '1', undefined],
    ['convoy.delivery.next-day', undefined, 'c', '2', undefined],
    ['convoy.delivery.weekly', undefined, 'd', '3', undefined],
    ['dlq', undefined, 'e', undefined, undefined],
    ['convoy.delivery.weekly', undefined, 'f', '5', undefined],
  ]);
  assert.equal(out.records[5]!.headers!['convoy-prev']!.toString(), '4');
  assert.equal(counters.deadLettered.get('CODEC_DECODE_FAILED'), 1);
});

test('the handler keeps one splitter per assigned partition and drops it on revoke', async () => {
  const handler = new SplitterHandler(options(), async () => 7);
  const other = { topic: 'in', partition: 0 };
  await handler.onAssigned(SOURCE);
  await handler.onAssigned(other);
  assert.equal(handler.partition(SOURCE)?.lastSeq, 6);
  await handler.onRecords(other, [{ ...rec(7, 'abc'), partition: 0 }], new Collect(), 0);
  assert.equal(handler.partition(other)?.lastSeq, 7);
  assert.equal(handler.partition(SOURCE)?.lastSeq, 6);
  handler.onRevoked(SOURCE);
  assert.equal(handler.partition(SOURCE), undefined);
  assert.equal(handler.counters.eventsIn, 1);
});
