import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitRecord, recordBatchBytes } from './record-size.ts';

const isReason = (name: string) => name.startsWith('convoy-error-');

test('recordBatchBytes: batch and record overhead plus key, value and each header', () => {
  assert.equal(recordBatchBytes({ key: null, value: null }), 61 + 36);
  assert.equal(recordBatchBytes({ key: 'ab', value: Buffer.alloc(10), headers: { h: Buffer.from('xyz'), gone: undefined } }), 61 + 36 + 2 + 10 + (10 + 1 + 3));
  assert.equal(recordBatchBytes({ key: 'é', value: null }), 61 + 36 + 2);
});

test('fitRecord leaves out the value, then the key, then every header but the kept ones, and says so', () => {
  const record = { topic: 'dlq', key: 'k'.repeat(200), value: Buffer.alloc(1000), headers: { 'convoy-error-code': Buffer.from('X'), trace: Buffer.alloc(300) } };
  assert.equal(fitRecord(record, 5000, isReason), record);

  const noValue = fitRecord(record, 1000, isReason);
  assert.equal(noValue.value, null);
  assert.equal(noValue.key, record.key);
  assert.equal(noValue.headers!['convoy-error-omitted']!.toString(), 'value');
  assert.equal(noValue.headers!['convoy-error-omitted-bytes']!.toString(), 'value=1000');
  assert.ok(recordBatchBytes(noValue) <= 1000);

  const noKey = fitRecord(record, 700, isReason);
  assert.deepEqual([noKey.key, noKey.value, noKey.headers!['convoy-error-omitted']!.toString(), noKey.headers!['convoy-error-omitted-bytes']!.toString()], [null, null, 'value,key', 'value=1000 key=200']);
  assert.ok(noKey.headers!['trace'] !== undefined);

  const bare = fitRecord(record, 300, isReason);
  assert.deepEqual(Object.keys(bare.headers!).sort(), ['convoy-error-code', 'convoy-error-omitted', 'convoy-error-omitted-bytes']);
  assert.equal(bare.headers!['convoy-error-omitted-bytes']!.toString(), 'value=1000 key=200 headers=315');
  assert.deepEqual(record.headers.trace, Buffer.alloc(300)); // the input is not mutated
});
