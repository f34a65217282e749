import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopicSpec } from './topics.ts';

test('topic specs: name:partitions[:compact]', () => {
  assert.deepEqual(parseTopicSpec('convoy.input:3'), { topic: 'convoy.input', partitions: 3 });
  assert.deepEqual(parseTopicSpec('convoy.substreams.splitter-state:3:compact'), {
    topic: 'convoy.substreams.splitter-state',
    partitions: 3,
    configs: { 'cleanup.policy': 'compact' },
  });
  assert.throws(() => parseTopicSpec('convoy.input'), /is not name:partitions\[:compact\]/);
  assert.throws(() => parseTopicSpec('bad name:3'), /is not name:partitions/);
  assert.throws(() => parseTopicSpec('t:0'), /partitions must be an integer >= 1/);
  assert.throws(() => parseTopicSpec('t:03'), /partitions must be an integer >= 1/);
  assert.throws(() => parseTopicSpec('t:3:delete'), /may only be "compact"/);
});
