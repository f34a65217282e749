/**
 * The hostile-input corpus against the pure splitter: each class of bad input becomes exactly one
 * dead letter with a stable code, and the good records around it come out as if it were not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCodec } from '@convoy/codecs';
import { ConvoyError } from '@convoy/errors';
import { recordBatchBytes, type ConvoyRecord, type OutgoingRecord, type RecordHeaders } from '@convoy/kafka';
import { createCounters, SourcePartitionSplitter, type SplitterOptions } from './splitter-handler.ts';
import { splitterOptions } from './test-fixtures.ts';

const SOURCE = { topic: 'in', partition: 0 };
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const HOUR = 3_600_000;

function options(overrides: Partial<SplitterOptions> = {}): SplitterOptions {
  return splitterOptions({
    maxValueBytes: 10_000,
    convoyHeadersOnInput: 'dead-letter',
    nullValues: 'dead-letter',
    eventTimeBounds: { min: Date.UTC(2000, 0, 1), maxFutureMs: HOUR },
    maxRecordBytes: 4_000,
    ...overrides,
  });
}

interface Input {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
  timestamp?: number;
}

function records(inputs: Input[]): ConvoyRecord[] {
  return inputs.map((input, offset) => {
    const headers: RecordHeaders = {};
    for (const [k, v] of Object.entries(input.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v : Buffer.from(v);
    const bytes = (x: Buffer | string | null | undefined, fallback: string | null) => (x === undefined ? (fallback === null ? null : Buffer.from(fallback)) : x === null ? null : Buffer.isBuffer(x) ? x : Buffer.from(x));
    return { ...SOURCE, offset, timestamp: input.timestamp ?? NOW - 1000, key: bytes(input.key, 'c-1'), value: bytes(input.value, '{"customerId":"c-1"}'), headers };
  });
}

interface Run {
  data: OutgoingRecord[];
  dead: OutgoingRecord[];
  markers: OutgoingRecord[];
  counters: ReturnType<typeof createCounters>;
}

async function run(inputs: Input[], overrides: Partial<SplitterOptions> = {}): Promise<Run> {
  const counters = createCounters();
  const out: OutgoingRecord[] = [];
  await new SourcePartitionSplitter(options(overrides), SOURCE, undefined, counters).onRecords(records(inputs), { send: (r) => void out.push(r) }, NOW);
  const kind = (r: OutgoingRecord) => r.headers?.['convoy-kind']?.toString();
  return {
    data: out.filter((r) => r.topic !== 'dlq' && kind(r) === 'data'),
    dead: out.filter((r) => r.topic === 'dlq'),
    markers: out.filter((r) => r.topic !== 'dlq' && kind(r) === 'progress'),
    counters,
  };
}

const text = (r: OutgoingRecord, header: string) => r.headers?.[header]?.toString('utf8');
/** [code, message, original offset] of each dead letter. */
const reasons = (dead: OutgoingRecord[]) => dead.map((r) => [text(r, 'convoy-error-code'), text(r, 'convoy-error-message'), Number(text(r, '__connect.errors.offset'))]);
const seqs = (data: OutgoingRecord[]) => data.map((r) => Number(text(r, 'convoy-seq')));

test('null and empty keys (SPLITTER_KEY_SOURCE=key) and tombstones are dead-lettered; the good records keep their seq and prev chain', async () => {
  const { data, dead, counters } = await run([{}, { key: null }, { key: '' }, { value: null }, {}]);
  assert.deepEqual(reasons(dead), [
    ['SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at the record key', 1],
    ['SPLITTER_MISSING_CUSTOMER_ID', 'no customer ID at the record key', 2],
    ['SPLITTER_NULL_VALUE', 'record has a null value (a tombstone), not an event', 3],
  ]);
  assert.deepEqual(seqs(data), [0, 4]);
  assert.equal(text(data[1]!, 'convoy-prev'), '3');
  assert.equal(dead[2]!.value, null);
  assert.deepEqual([...counters.deadLettered], [['SPLITTER_MISSING_CUSTOMER_ID', 2], ['SPLITTER_NULL_VALUE', 1]]);
  assert.equal(counters.eventsIn, 5);
});

test('nullValues=pass forwards a tombstone keyed by its record key', async () => {
  const { data, dead } = await run([{ value: null }], { nullValues: 'pass' });
  assert.deepEqual(reasons(dead), []);
  assert.equal(data[0]!.value, null);
});

test('random bytes: opaque values pass untouched when nothing decodes them; with the ID in the payload they are dead-lettered, and a random key is irrelevant', async () => {
  // Fixed "random" bytes: not UTF-8, not JSON, not a registry frame.
  const noise = Buffer.from('9f3c01ffe2a4c3287b5d00ee91', 'hex');
  const opaque = await run([{ value: noise }]);
  assert.deepEqual(reasons(opaque.dead), []);
  assert.deepEqual(opaque.data[0]!.value, noise);

  const codec = createCodec({});
  const decode = async (value: Buffer) => (await codec.decode(value)).value;
  const byField = await run([{ value: noise }, { key: noise, value: '{"customerId":"c-9"}' }], { keySource: { kind: 'field', path: 'customerId' }, decode });
  assert.deepEqual(reasons(byField.dead).map(([code, , offset]) => [code, offset]), [['CODEC_DECODE_FAILED', 0]]);
  assert.match(text(byField.dead[0]!, 'convoy-error-message')!, /^value is not JSON: /);
  assert.deepEqual(byField.dead[0]!.value, noise);
  assert.deepEqual(byField.data[0]!.key, noise);
  assert.equal(text(byField.data[0]!, 'convoy-seq'), '1');
});

test('registry-framed value (magic byte 0x00) with an unknown schema id: dead-lettered with the codec code; a retriable registry failure is rethrown instead', async () => {
  const framed = Buffer.from([0x00, 0x77, 0x35, 0x94, 0x00, 0x02, 0x41]);
  const unknown = async (value: Buffer): Promise<unknown> => {
    if (value[0] === 0) throw new ConvoyError('CODEC_UNKNOWN_SCHEMA', `schema id ${value.readUInt32BE(1)} is unknown to the registry`);
    return JSON.parse(value.toString('utf8'));
  };
  const { data, dead } = await run([{ value: framed }, {}], { keySource: { kind: 'field', path: 'customerId' }, decode: unknown });
  assert.deepEqual(reasons(dead), [['CODEC_UNKNOWN_SCHEMA', 'schema id 2000000000 is unknown to the registry', 0]]);
  assert.deepEqual(seqs(data), [1]);

  const down = async (): Promise<unknown> => {
    throw new ConvoyError('CODEC_REGISTRY_UNAVAILABLE', 'connect ECONNREFUSED', { retriable: true });
  };
  await assert.rejects(run([{ value: framed }], { keySource: { kind: 'field', path: 'customerId' }, decode: down }), { code: 'CODEC_REGISTRY_UNAVAILABLE' });
});

test('oversized value and oversized record: dead-lettered, and the dead letter itself drops the value to fit the record limit, saying so', async () => {
  const big = `{"customerId":"c-1","pad":"${'x'.repeat(3_800)}"}`;
  const huge = Buffer.alloc(12_000, 0x61);
  const { data, dead, counters } = await run([{ value: huge }, { value: big }, { key: 'k'.repeat(100) }]);
  assert.deepEqual(reasons(dead), [
    ['SPLITTER_VALUE_TOO_LARGE', 'value is 12000 bytes, more than SPLITTER_MAX_VALUE_BYTES=10000', 0],
    ['SPLITTER_RECORD_TOO_LARGE', `the data record would take ${recordBatchBytes(withEnvelopeLike(big))} bytes (key, value and headers), more than SPLITTER_MAX_RECORD_BYTES=4000`, 1],
  ]);
  for (const [i, size] of [[0, 12_000], [1, big.length]] as const) {
    assert.equal(dead[i]!.value, null);
    assert.equal(text(dead[i]!, 'convoy-error-omitted'), 'value');
    assert.equal(text(dead[i]!, 'convoy-error-omitted-bytes'), `value=${size}`);
    assert.equal(dead[i]!.key?.toString(), 'c-1');
    assert.ok(recordBatchBytes(dead[i]!) <= 4_000);
  }
  assert.deepEqual(seqs(data), [2]);
  assert.equal(counters.deadLettersTrimmed, 2);
});

/** The splitter's data record for value `big` at offset 1 (prev 0), to compute its exact size. */
function withEnvelopeLike(value: string): OutgoingRecord {
  const headers: RecordHeaders = {
    'convoy-kind': Buffer.from('data'),
    'convoy-seq': Buffer.from('1'),
    'convoy-prev': Buffer.from('0'),
    'convoy-source': Buffer.from('in/0'),
    'convoy-event-time': Buffer.from(String(NOW - 1000)),
    'convoy-substream': Buffer.from('0'),
    'convoy-epoch': Buffer.from('0'),
  };
  return { topic: 'subs', key: 'c-1', value, headers };
}

test('malformed UTF-8: a header the splitter reads is dead-lettered; a foreign header passes byte for byte', async () => {
  const bad = Buffer.from([0xc3, 0x28]);
  const byHeader = await run(
    [{ headers: { 'event-time': bad } }, { headers: { 'customer-id': bad, 'event-time': String(NOW) } }, { headers: { 'customer-id': 'c-2', 'event-time': String(NOW), 'x-trace': bad } }],
    { keySource: { kind: 'header', name: 'customer-id' }, eventTimeSource: { kind: 'header', name: 'event-time' } },
  );
  assert.deepEqual(reasons(byHeader.dead), [
    ['SPLITTER_MALFORMED_HEADER', 'header event-time is not valid UTF-8 (bytes c328)', 0],
    ['SPLITTER_MALFORMED_HEADER', 'header customer-id is not valid UTF-8 (bytes c328)', 1],
  ]);
  assert.deepEqual(byHeader.dead[0]!.headers!['event-time'], bad);
  assert.deepEqual(seqs(byHeader.data), [2]);
  assert.deepEqual(byHeader.data[0]!.headers!['x-trace'], bad);
  assert.equal(text(byHeader.data[0]!, 'convoy-event-time'), String(NOW));
});

test('spoofed Convoy headers: a fake progress marker or seq is dead-lettered, never becomes a marker, and never moves seq', async () => {
  const spoof = { 'convoy-kind': 'progress', 'convoy-seq': '0', 'convoy-source': 'in/0', 'convoy-epoch': '9', 'convoy-late': 'true' };
  const { data, dead, markers, counters } = await run([{}, { headers: spoof }, { headers: { 'convoy-seq': '99' } }, { headers: { 'convoy-error-code': 'OLD', 'x-a': 'b' } }]);
  assert.deepEqual(reasons(dead), [
    ['SPLITTER_SPOOFED_CONVOY_HEADER', 'input carries Convoy header(s) convoy-kind, convoy-seq, convoy-source, convoy-epoch, convoy-late; input headers are never trusted as Convoy metadata', 1],
    ['SPLITTER_SPOOFED_CONVOY_HEADER', 'input carries Convoy header(s) convoy-seq; input headers are never trusted as Convoy metadata', 2],
  ]);
  // A replayed dead letter's reason headers are stripped, not a reason to dead-letter.
  assert.deepEqual(seqs(data), [0, 3]);
  assert.equal(text(data[1]!, 'convoy-prev'), '2');
  assert.equal(text(data[1]!, 'convoy-error-code'), undefined);
  assert.equal(text(data[1]!, 'x-a'), 'b');
  assert.equal(counters.strippedHeaders, 1);
  // Only the splitter's own markers (one round at the end of the batch), covering seq 3.
  assert.deepEqual(markers.map((m) => [m.partition, text(m, 'convoy-seq'), text(m, 'convoy-source'), text(m, 'convoy-epoch')]), [
    [0, '3', 'in/0', '0'],
    [1, '3', 'in/0', '0'],
    [2, '3', 'in/0', '0'],
    [3, '3', 'in/0', '0'],
  ]);
});

test('convoyHeadersOnInput=strip: the spoofed record passes as plain data with its own seq, counted', async () => {
  const { data, dead, counters } = await run([{}, { headers: { 'convoy-kind': 'progress', 'convoy-seq': '0', 'convoy-epoch': '9' } }], { convoyHeadersOnInput: 'strip' });
  assert.deepEqual(reasons(dead), []);
  assert.deepEqual(data.map((r) => [text(r, 'convoy-kind'), text(r, 'convoy-seq'), text(r, 'convoy-prev'), text(r, 'convoy-epoch')]), [
    ['data', '0', undefined, '0'],
    ['data', '1', '0', '0'],
  ]);
  assert.equal(counters.strippedHeaders, 3);
});

test('event times out of range (far past, negative, far future, beyond max-past) and unreadable ones are dead-lettered', async () => {
  const source = { eventTimeSource: { kind: 'header', name: 'ts' } as const, eventTimeBounds: { min: Date.UTC(2000, 0, 1), maxFutureMs: HOUR, maxPastMs: 7 * 24 * HOUR } };
  const { data, dead, counters } = await run(
    [
      { headers: { ts: String(NOW - HOUR) } },
      { headers: { ts: '1' } },
      { headers: { ts: '-5' } },
      { headers: { ts: String(NOW + HOUR + 1) } },
      { headers: { ts: String(NOW - 8 * 24 * HOUR) } },
      { headers: { ts: 'NaN' } },
      { headers: { ts: '1e999' } },
      { headers: { ts: '2026-13-45T00:00:00Z' } },
      { headers: { ts: String(NOW + HOUR) } },
      {},
    ],
    source,
  );
  const clock = `the processing clock ${NOW}`;
  assert.deepEqual(reasons(dead), [
    ['SPLITTER_EVENT_TIME_OUT_OF_RANGE', 'event time 1 (1970-01-01T00:00:00.001Z) from header ts is before SPLITTER_EVENT_TIME_MIN=946684800000 (2000-01-01T00:00:00.000Z)', 1],
    ['SPLITTER_EVENT_TIME_OUT_OF_RANGE', 'event time -5 (1969-12-31T23:59:59.995Z) from header ts is before SPLITTER_EVENT_TIME_MIN=946684800000 (2000-01-01T00:00:00.000Z)', 2],
    ['SPLITTER_EVENT_TIME_OUT_OF_RANGE', `event time ${NOW + HOUR + 1} (2026-11-26T13:00:00.001Z) from header ts is more than SPLITTER_EVENT_TIME_MAX_FUTURE_MS=3600000 ahead of ${clock}`, 3],
    ['SPLITTER_EVENT_TIME_OUT_OF_RANGE', `event time ${NOW - 8 * 24 * HOUR} (2026-11-18T12:00:00.000Z) from header ts is more than SPLITTER_EVENT_TIME_MAX_PAST_MS=604800000 behind ${clock}`, 4],
    ['SPLITTER_EVENT_TIME_UNREADABLE', 'header ts holds "NaN", not an event time (ms since the epoch or ISO-8601)', 5],
    ['SPLITTER_EVENT_TIME_UNREADABLE', 'header ts holds "1e999", not an event time (ms since the epoch or ISO-8601)', 6],
    ['SPLITTER_EVENT_TIME_UNREADABLE', 'header ts holds "2026-13-45T00:00:00Z", not an event time (ms since the epoch or ISO-8601)', 7],
  ]);
  assert.deepEqual(seqs(data), [0, 8, 9]);
  // A missing header falls back to the record timestamp (counted), which is in range.
  assert.equal(text(data[2]!, 'convoy-event-time'), String(NOW - 1000));
  assert.equal(counters.eventTimeFallbacks, 1);
});

test('the bounds apply to the record timestamp too, and to payload fields', async () => {
  const stamped = await run([{ timestamp: 0 }, { timestamp: NOW + 2 * HOUR }, {}]);
  assert.deepEqual(reasons(stamped.dead).map(([code, , offset]) => [code, offset]), [['SPLITTER_EVENT_TIME_OUT_OF_RANGE', 0], ['SPLITTER_EVENT_TIME_OUT_OF_RANGE', 1]]);
  assert.equal(text(stamped.dead[0]!, 'convoy-error-message'), 'event time 0 (1970-01-01T00:00:00.000Z) from the record timestamp is before SPLITTER_EVENT_TIME_MIN=946684800000 (2000-01-01T00:00:00.000Z)');
  const fields = await run([{ value: '{"at":-1}' }, { value: '{"at":{"ms":1}}' }, { value: `{"at":${NOW}}` }], { eventTimeSource: { kind: 'field', path: 'at' } });
  assert.deepEqual(reasons(fields.dead).map(([code, , offset]) => [code, offset]), [['SPLITTER_EVENT_TIME_OUT_OF_RANGE', 0], ['SPLITTER_EVENT_TIME_UNREADABLE', 1]]);
  assert.equal(text(fields.dead[1]!, 'convoy-error-message'), 'payload field at holds [object Object], not an event time (ms since the epoch or ISO-8601)');
  assert.deepEqual(seqs(fields.data), [2]);
});

test('every record of a mixed corpus leaves exactly once: events in = data out + dead letters', async () => {
  const inputs: Input[] = [];
  const bad: Input[] = [{ key: null }, { value: null }, { headers: { 'convoy-kind': 'progress' } }, { timestamp: -1 }, { value: Buffer.alloc(20_000) }];
  for (let i = 0; i < 50; i++) inputs.push(i % 3 === 0 ? bad[(i / 3) % bad.length]! : { key: `c-${i % 7}` });
  const { data, dead, counters } = await run(inputs);
  assert.equal(data.length + dead.length, 50);
  assert.deepEqual([...data.map((r) => Number(text(r, 'convoy-seq'))), ...dead.map((r) => Number(text(r, '__connect.errors.offset')))].sort((a, b) => a - b), inputs.map((_, i) => i));
  assert.equal(dead.length, 17);
  assert.equal([...counters.deadLettered.values()].reduce((a, b) => a + b, 0), 17);
  assert.equal([...counters.eventsOut.values()].reduce((a, b) => a + b, 0), 33);
});
