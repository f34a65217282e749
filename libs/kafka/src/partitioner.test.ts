import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { murmur2, partitionForKey } from './partitioner.ts';

// Expected values from Apache Kafka's UtilsTest.testMurmur2 (Java Utils.murmur2, signed int32).
const JAVA_VECTORS: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test('murmur2 matches the Java implementation on Kafka UtilsTest vectors', () => {
  for (const [key, expected] of JAVA_VECTORS) assert.equal(murmur2(Buffer.from(key, 'utf8')), expected, key);
});

test('partitionForKey is toPositive(murmur2) % n', () => {
  assert.equal(partitionForKey('foobar', 1), 0);
  assert.equal(partitionForKey('foobar', 7), (-790332482 & 0x7fffffff) % 7);
  assert.equal(partitionForKey(Buffer.from('abc'), 10), 479470107 % 10);
  assert.throws(() => partitionForKey('x', 0), RangeError);
});

test('partitionForKey agrees with kafkajs DefaultPartitioner for any key and partition count', () => {
  const partitioner = Partitioners.DefaultPartitioner();
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (bytes, n) => {
      const key = Buffer.from(bytes);
      const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      const theirs = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
      assert.equal(partitionForKey(key, n), theirs);
    }),
    { numRuns: 300 },
  );
});
