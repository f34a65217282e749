import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksByBytes } from './processor.ts';

const record = (bytes: number) => ({ topic: 't', key: null, value: Buffer.alloc(bytes) });

test('a transaction output is split into sends of at most maxBytes, in order; a lone oversized record goes alone', () => {
  const records = [record(100), record(100), record(100), record(1000), record(10)];
  const chunks = chunksByBytes(records, 400);
  assert.deepEqual(
    chunks.map((c) => c.map((r) => r.value?.length)),
    [[100, 100], [100], [1000], [10]],
  );
  assert.deepEqual(chunks.flat(), records);
  assert.deepEqual(chunksByBytes([], 400), []);
});
