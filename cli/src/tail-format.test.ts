import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvoyRecord } from '@convoy/kafka';
import { formatRecord, recordJson, showValue, valueText } from './tail-format.ts';

const record = (over: Partial<ConvoyRecord>): ConvoyRecord => ({
  topic: 't',
  partition: 1,
  offset: 42,
  timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
  key: Buffer.from('customer-7'),
  value: null,
  headers: {},
  ...over,
});
const h = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));

test('values: JSON when it parses, text when printable, hex otherwise; framed values through the codec', async () => {
  assert.deepEqual(await showValue(Buffer.from('{"a":1}'), undefined), { kind: 'json', value: { a: 1 } });
  assert.deepEqual(await showValue(Buffer.from('hello'), undefined), { kind: 'text', text: 'hello' });
  assert.deepEqual(await showValue(Buffer.from([0xff, 0x00, 0x10]), undefined), { kind: 'binary', hex: 'ff0010', bytes: 3 });
  assert.deepEqual(await showValue(null, undefined), { kind: 'null' });
  const framed = Buffer.from([0, 0, 0, 0, 5, 2, 3]);
  const codec = { hasRegistry: true, decode: async () => ({ value: { orderId: 'o-1' }, schemaId: 5 }) };
  assert.deepEqual(await showValue(framed, codec), { kind: 'json', value: { orderId: 'o-1' }, schemaId: 5 });
  assert.equal(valueText({ kind: 'json', value: { orderId: 'o-1' }, schemaId: 5 }), '<schema 5> {"orderId":"o-1"}');
  const failing = { hasRegistry: true, decode: async () => Promise.reject(new Error('unknown schema')) };
  assert.deepEqual(await showValue(framed, failing), { kind: 'binary', hex: '00000000050203', bytes: 7 });
  assert.equal(valueText({ kind: 'binary', hex: 'ab'.repeat(64), bytes: 100 }), `0x${'ab'.repeat(64)}… (100 bytes)`);
});

test('a data record: the envelope decoded on one line', () => {
  const r = record({ headers: h({ 'convoy-kind': 'data', 'convoy-seq': '42', 'convoy-prev': '40', 'convoy-source': 'convoy.input/1', 'convoy-event-time': '0', trace: 'abc' }) });
  assert.equal(
    formatRecord(r, { kind: 'json', value: { a: 1 } }),
    'p1 @42 2026-01-02T03:04:05.006Z key="customer-7" [data seq=42 prev=40 source=convoy.input/1 event-time=1970-01-01T00:00:00.000Z] trace=abc {"a":1}',
  );
  assert.deepEqual(recordJson(r, { kind: 'json', value: { a: 1 } }), {
    topic: 't',
    partition: 1,
    offset: 42,
    timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    key: 'customer-7',
    envelope: { kind: 'data', seq: 42, prev: 40, source: { topic: 'convoy.input', partition: 1 }, eventTime: 0 },
    headers: { trace: 'abc' },
    value: { a: 1 },
  });
});

test('a dead letter shows its reason headers; malformed envelope headers are named, not thrown', () => {
  const dead = record({
    key: null,
    headers: {
      ...h({ 'convoy-error-code': 'SPLITTER_MISSING_CUSTOMER_ID', 'convoy-error-message': 'no customer ID at the record key', '__connect.errors.topic': 'convoy.input' }),
      'kafka_dlt-original-offset': Buffer.alloc(8),
    },
  });
  assert.equal(
    formatRecord(dead, { kind: 'text', text: 'x' }),
    'p1 @42 2026-01-02T03:04:05.006Z key=null convoy-error-code=SPLITTER_MISSING_CUSTOMER_ID convoy-error-message="no customer ID at the record key" __connect.errors.topic=convoy.input "x"',
  );
  const bad = record({ headers: h({ 'convoy-kind': 'data', 'convoy-seq': '0x1', 'convoy-source': 'in/0' }) });
  assert.equal(formatRecord(bad, { kind: 'null' }), 'p1 @42 2026-01-02T03:04:05.006Z key="customer-7" [convoy headers malformed: convoy-seq="0x1" is not a non-negative decimal integer] null');
});
