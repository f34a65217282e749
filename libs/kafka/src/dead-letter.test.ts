import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import { deadLetterRecord, MAX_ERROR_MESSAGE_BYTES } from './dead-letter.ts';
import type { ConvoyRecord } from './types.ts';

const original: ConvoyRecord = {
  topic: 'convoy.input', partition: 2, offset: 1234, timestamp: 1_700_000_000_000,
  key: Buffer.from([0xff, 0x00]), value: Buffer.from([1, 2, 3]),
  headers: { trace: Buffer.from([0xde, 0xad]), 'convoy-error-code': Buffer.from('OLD') },
};

test('keeps key, value and headers byte for byte and adds the reason headers', () => {
  const error = new ConvoyError('SPLITTER_MISSING_CUSTOMER_ID', 'no customer id at customer.id');
  const dead = deadLetterRecord(original, error, 'splitter', 'convoy.dlq');
  assert.equal(dead.topic, 'convoy.dlq');
  assert.equal(dead.partition, undefined);
  assert.equal(dead.key, original.key);
  assert.equal(dead.value, original.value);
  const h = dead.headers!;
  assert.deepEqual(h['trace'], Buffer.from([0xde, 0xad]));
  const text = Object.fromEntries(
    Object.entries(h).filter(([k]) => !['trace', 'kafka_dlt-original-partition', 'kafka_dlt-original-offset', 'kafka_dlt-original-timestamp'].includes(k)).map(([k, v]) => [k, v!.toString('utf8')]),
  );
  assert.deepEqual(text, {
    'convoy-error-code': 'SPLITTER_MISSING_CUSTOMER_ID',
    'convoy-error-message': 'no customer id at customer.id',
    'convoy-error-stage': 'splitter',
    'convoy-error-retriable': 'false',
    '__connect.errors.topic': 'convoy.input',
    '__connect.errors.partition': '2',
    '__connect.errors.offset': '1234',
    '__connect.errors.exception.class.name': 'ConvoyError',
    '__connect.errors.exception.message': 'SPLITTER_MISSING_CUSTOMER_ID: no customer id at customer.id',
    'kafka_dlt-original-topic': 'convoy.input',
    'kafka_dlt-exception-message': 'SPLITTER_MISSING_CUSTOMER_ID: no customer id at customer.id',
    'kafka_dlt-exception-fqcn': 'ConvoyError',
  });
  assert.deepEqual(h['kafka_dlt-original-partition'], Buffer.from([0, 0, 0, 2]));
  assert.deepEqual(h['kafka_dlt-original-offset'], Buffer.from([0, 0, 0, 0, 0, 0, 0x04, 0xd2]));
  assert.equal(h['kafka_dlt-original-timestamp']!.readBigInt64BE(0), 1_700_000_000_000n);
});

test('retriable flag and non-Error causes; huge messages are cut', () => {
  const dead = deadLetterRecord(original, new ConvoyError('X', 'y'.repeat(10_000), { retriable: true }), 'worker', 'dlq');
  assert.equal(dead.headers!['convoy-error-retriable']!.toString(), 'true');
  assert.equal(dead.headers!['convoy-error-message']!.length, MAX_ERROR_MESSAGE_BYTES);
  const odd = deadLetterRecord(original, 'just a string', 'worker', 'dlq');
  assert.equal(odd.headers!['convoy-error-code']!.toString(), 'UNKNOWN');
  assert.equal(odd.headers!['convoy-error-message']!.toString(), 'just a string');
});
