import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changelogTopicOf, lateTopicOf, loadAggregatorConfig } from './config.ts';
import { windowHandlerOptions } from './service.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

function problems(env: Record<string, string>): string {
  try {
    loadAggregatorConfig({ ...base, ...env });
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
    return (error as Error).message;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('aggregator config', () => {
  test('defaults', () => {
    const c = loadAggregatorConfig(base);
    assert.equal(c.AGG_MODE, 'windows');
    assert.equal(c.AGG_OUTPUT_TOPIC, 'convoy.aggregates');
    assert.equal(lateTopicOf(c), 'convoy.aggregates.late');
    assert.equal(changelogTopicOf(c), 'convoy-aggregator.changelog');
    assert.deepEqual(c.AGG_KEY, { kind: 'key' });
    assert.deepEqual(c.AGG_EVENT_TIME, { kind: 'header', name: 'convoy-event-time' });
    assert.equal(c.AGG_WINDOW_SIZE_MS, 60_000);
    assert.equal(c.AGG_WATERMARK, 'records');
    const options = windowHandlerOptions(c);
    assert.deepEqual([options.windows.size, options.windows.slide, options.windows.offset], [60_000, 60_000, 0]);
    assert.equal(options.valueField, undefined);
  });

  test('sources and hopping windows', () => {
    const c = loadAggregatorConfig({ ...base, AGG_KEY: 'field:order.region', AGG_EVENT_TIME: 'timestamp', AGG_WINDOW_SIZE_MS: '1m', AGG_WINDOW_SLIDE_MS: '10s', AGG_VALUE_FIELD: 'amount' });
    assert.deepEqual(c.AGG_KEY, { kind: 'field', path: 'order.region' });
    assert.deepEqual(c.AGG_EVENT_TIME, { kind: 'timestamp' });
    assert.equal(windowHandlerOptions(c).windows.slide, 10_000);
  });

  test('bad values name the variable', () => {
    assert.match(problems({ AGG_KEY: 'value' }), /AGG_KEY="value"/);
    assert.match(problems({ AGG_WINDOW_SIZE_MS: '10s', AGG_WINDOW_SLIDE_MS: '20s' }), /AGG_WINDOW_SLIDE_MS=20000 is above AGG_WINDOW_SIZE_MS=10000/);
    assert.match(problems({ AGG_WINDOW_SIZE_MS: '10s', AGG_WINDOW_OFFSET_MS: '10000' }), /AGG_WINDOW_OFFSET_MS=10000/);
    assert.match(problems({ AGG_WATERMARK: 'sometimes' }), /AGG_WATERMARK/);
    assert.match(problems({ AGG_MODE: 'sum' }), /AGG_MODE/);
  });
});
