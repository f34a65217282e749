/**
 * The aggregator against the real broker, hostile input: an event stamped 8.64e15 (with a value
 * larger than the DLQ topic accepts) is dead-lettered, trimmed, and does not advance the bounded
 * watermark, so the next good event is still on time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniqueName } from '../harness/stack.ts';
import { deleteTopics, produce, readTopic, withAdmin, type ProduceRecord } from '../harness/topics.ts';
import { startAggregator } from './aggregator-helpers.ts';

test('a far-future event goes to the DLQ (trimmed to its limit) instead of advancing the watermark', async (t) => {
  const dlq = uniqueName('agg-hostile-dlq');
  await withAdmin((admin) =>
    admin.createTopics({ waitForLeaders: true, topics: [{ topic: dlq, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }] }),
  );
  t.after(() => deleteTopics([dlq]));
  const run = await startAggregator(t, 1, { AGG_DLQ_TOPIC: dlq, AGG_VALUE_FIELD: 'amount', AGG_WATERMARK: 'bounded', AGG_MAX_OUT_OF_ORDER_MS: '0' });
  const now = Date.now();
  const order = (time: number, amount: number, pad = ''): ProduceRecord => ({
    partition: 0,
    key: 'eu',
    value: JSON.stringify({ amount, pad }),
    headers: { 'convoy-event-time': String(time) },
  });
  await produce(run.input, [order(now - 120_000, 5), order(8.64e15, 1, 'x'.repeat(50_000)), order(now - 110_000, 7)]);

  const [dead] = await readTopic(dlq, { until: (r) => r.length >= 1, timeoutMs: 30_000 });
  assert.deepEqual(
    [dead?.headers['convoy-error-code'], dead?.value, dead?.headers['convoy-error-omitted'], dead?.headers['convoy-error-omitted-bytes']],
    ['AGGREGATOR_EVENT_TIME_OUT_OF_RANGE', null, 'value', 'value=50021'],
    run.proc.logTail(),
  );
  assert.equal(await run.proc.metric('convoy_aggregator_dead_letters_total', { code: 'AGGREGATOR_EVENT_TIME_OUT_OF_RANGE' }), 1);
  assert.equal(await run.proc.metric('convoy_aggregator_dead_letters_trimmed_total'), 1);
  assert.equal(await run.proc.metric('convoy_aggregator_events_in_total', { kind: 'data' }), 2);
  assert.equal(await run.proc.metric('convoy_aggregator_late_events_total'), 0);
  assert.equal(await run.proc.metric('convoy_aggregator_watermark_ms'), now - 110_000);
});
