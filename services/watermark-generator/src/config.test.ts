import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadGeneratorConfig, logicalLagOf } from './config.ts';

test('defaults and the logical lag default', () => {
  const c = loadGeneratorConfig({ KAFKA_BROKERS: 'k:9092', WM_TOPICS: 'a, b', WM_MODE: 'logical', WM_INTERVAL_MS: '200ms' });
  assert.deepEqual(c.WM_TOPICS, ['a', 'b']);
  assert.equal(c.WM_MODE, 'logical');
  assert.equal(logicalLagOf(c), 400);
});

test('a bad value names the variable', () => {
  assert.throws(() => loadGeneratorConfig({ KAFKA_BROKERS: 'k:9092', WM_TOPICS: 'a', WM_MODE: 'sundial' }), /WM_MODE/);
  assert.throws(() => loadGeneratorConfig({ KAFKA_BROKERS: 'k:9092' }), /WM_TOPICS/);
});
