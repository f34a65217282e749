import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDemoProducerConfig } from './config.ts';

const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

test('defaults', () => {
  const c = loadDemoProducerConfig(base);
  assert.deepEqual(
    {
      topic: c.DEMO_TOPIC,
      rate: c.DEMO_RATE,
      count: c.DEMO_COUNT,
      customers: c.DEMO_CUSTOMERS,
      ooo: c.DEMO_OUT_OF_ORDER_RATIO,
      disorder: c.DEMO_MAX_DISORDER_MS,
      late: c.DEMO_LATE_RATIO,
      lateBy: c.DEMO_LATE_BY_MS,
      malformed: c.DEMO_MALFORMED_RATIO,
      seed: c.DEMO_SEED,
      format: c.DEMO_FORMAT,
      port: c.HTTP_PORT,
    },
    { topic: 'convoy.input', rate: 200, count: undefined, customers: 1000, ooo: 0.1, disorder: 2_000, late: 0.01, lateBy: 120_000, malformed: 0.002, seed: undefined, format: 'json', port: 9520 },
  );
  assert.equal(loadDemoProducerConfig({ ...base, DEMO_MAX_DISORDER_MS: '2s', DEMO_LATE_BY_MS: '2m' }).DEMO_LATE_BY_MS, 120_000);
});

test('bad values fail naming the variable', () => {
  assert.throws(() => loadDemoProducerConfig({ ...base, DEMO_RATE: '-1' }), /DEMO_RATE="-1" is not valid/);
  assert.throws(() => loadDemoProducerConfig({ ...base, DEMO_COUNT: '0' }), /DEMO_COUNT="0" is not valid/);
  assert.throws(() => loadDemoProducerConfig({ ...base, DEMO_LATE_RATIO: '1.5' }), /DEMO_LATE_RATIO="1.5" is not valid/);
  assert.throws(
    () => loadDemoProducerConfig({ ...base, DEMO_OUT_OF_ORDER_RATIO: '0.6', DEMO_LATE_RATIO: '0.5' }),
    /DEMO_OUT_OF_ORDER_RATIO \+ DEMO_LATE_RATIO \+ DEMO_MALFORMED_RATIO is 1.102: expected at most 1/,
  );
  assert.throws(() => loadDemoProducerConfig({ ...base, DEMO_FORMAT: 'avro' }), /DEMO_FORMAT=avro needs SCHEMA_REGISTRY_URL/);
  assert.throws(() => loadDemoProducerConfig({ ...base, DEMO_TOPIC: 'a b' }), /DEMO_TOPIC="a b" is not valid/);
});
