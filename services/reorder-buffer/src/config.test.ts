import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latePolicies, loadReorderConfig } from './config.ts';

test('config: never-drop refuses a drop policy, naming the variable', () => {
  assert.throws(() => loadReorderConfig({ KAFKA_BROKERS: 'k:9092', REORDER_LATE_POLICY: 'drop', REORDER_NEVER_DROP: 'card' }), /REORDER_NEVER_DROP[\s\S]*card/);
  assert.throws(() => loadReorderConfig({ KAFKA_BROKERS: 'k:9092', REORDER_LATE_POLICIES: '{"card":"drop"}', REORDER_NEVER_DROP: '*' }), /REORDER_NEVER_DROP/);
  assert.throws(() => loadReorderConfig({ KAFKA_BROKERS: 'k:9092', REORDER_STREAM_KEY: 'bogus' }), /REORDER_STREAM_KEY/);
  assert.throws(() => loadReorderConfig({ KAFKA_BROKERS: 'k:9092', REORDER_SLACK: 'k-slack' }), /REORDER_SLACK/);
  const config = loadReorderConfig({ KAFKA_BROKERS: 'k:9092', REORDER_LATE_POLICY: 'drop', REORDER_LATE_POLICIES: '{"card":"route-late"}', REORDER_NEVER_DROP: 'card' });
  const { policyOf, neverDrop } = latePolicies(config);
  assert.equal(policyOf('card'), 'route-late');
  assert.equal(policyOf('x'), 'drop');
  assert.equal(neverDrop('card'), true);
});
