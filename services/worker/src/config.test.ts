import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConvoyError } from '@convoy/errors';
import { loadWorkerConfig } from './config.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig({ ...base, ...env });
  } catch (error) {
    assert.ok(error instanceof ConvoyError && error.code === 'CONFIG_INVALID');
    return (error.context.problems as { message: string }[]).map((p) => p.message);
  }
  return [];
}

describe('worker config', () => {
  it('has defaults for everything but the brokers', () => {
    const config = loadWorkerConfig(base);
    assert.equal(config.KAFKA_CLIENT_ID, 'convoy-worker');
    assert.equal(config.WORKER_INPUT_TOPIC, 'convoy.substreams');
    assert.equal(config.WORKER_GROUP_ID, 'convoy-worker');
    assert.equal(config.WORKER_PROCESSED_TOPIC, 'convoy.processed');
    assert.equal(config.WORKER_DLQ_TOPIC, 'convoy.dlq');
    assert.equal(config.WORKER_PROCESSED_PARTITIONS, undefined);
    assert.equal(config.WORKER_PROCESSOR, 'identity');
    assert.equal(config.WORKER_EMIT_FILLERS, false);
    assert.equal(config.WORKER_MAX_ATTEMPTS, 3);
    assert.equal(config.WORKER_CACHE_SIZE, 10_000);
    assert.equal(config.WORKER_STORE_LATENCY_MS, 5);
    assert.equal(config.WORKER_CONCURRENCY, 1);
  });

  it('parses durations, booleans and the filter', () => {
    const config = loadWorkerConfig({ ...base, WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"dropEveryNth":10}', WORKER_EMIT_FILLERS: 'yes', WORKER_STORE_LATENCY_MS: '20ms', WORKER_PROCESSED_PARTITIONS: '3' });
    assert.equal(config.WORKER_FILTER, '{"dropEveryNth":10}');
    assert.equal(config.WORKER_EMIT_FILLERS, true);
    assert.equal(config.WORKER_STORE_LATENCY_MS, 20);
    assert.equal(config.WORKER_PROCESSED_PARTITIONS, 3);
  });

  it('names each bad variable and what it accepts', () => {
    assert.deepEqual(problems({ WORKER_PROCESSOR: 'filter' }), ['WORKER_PROCESSOR=filter needs WORKER_FILTER to be set']);
    assert.deepEqual(problems({ WORKER_FILTER: '{"dropEveryNth":1}' }), [
      'WORKER_FILTER="{\\"dropEveryNth\\":1}" is not valid: invalid filter rule: $.dropEveryNth must be an integer >= 2 and alone in its object; expected a JSON filter rule such as {"field":"amount","gte":100}, {"dropEveryNth":10}, {"all":[...]}, {"any":[...]} or {"not":{...}}',
    ]);
    assert.deepEqual(problems({ WORKER_MAX_ATTEMPTS: '0' }), ['WORKER_MAX_ATTEMPTS="0" is not valid: expected an integer from 1 to 100']);
    assert.deepEqual(problems({ WORKER_ENRICH_CUSTOMER_ID: 'value' }), ['WORKER_ENRICH_CUSTOMER_ID="value" is not valid: expected key, header:<name> or field:<dotted.path>']);
    assert.deepEqual(problems({ WORKER_PROCESSOR_OPTIONS: '[1]' }), ['WORKER_PROCESSOR_OPTIONS="[1]" is not valid: expected a JSON object such as {"threshold":5}']);
    assert.equal(problems({ WORKER_EMIT_FILLERS: 'maybe', WORKER_CACHE_SIZE: '0' }).length, 2);
  });
});
