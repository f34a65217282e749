/**
 * Taxi dispatch against the real broker: the first accept of a ride wins (one assignment, keyed by
 * the winning driver), every later accept by another driver gets a cancellation keyed by that
 * driver, the winner's repeat produces nothing, and a bad accept goes to the DLQ.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { produce, readTopic, type ProduceRecord } from '../harness/topics.ts';
import { json, startAggregator } from './aggregator-helpers.ts';

const accept = (requestId: string, driverId: string, requestTime: number, acceptTime: number): ProduceRecord => ({
  key: requestId, // all accepts of a ride in one partition
  value: JSON.stringify({ requestId, driverId, requestTime, acceptTime }),
});

test('dispatch: first accept wins, later accepts are cancelled and addressed to their drivers', async (t) => {
  const run = await startAggregator(t, 2, { AGG_MODE: 'dispatch', AGG_DISPATCH_RETENTION_MS: '300000', AGG_EVENT_TIME: 'timestamp' });
  await produce(run.input, [
    accept('ride-1', 'ann', 1_000, 4_000),
    accept('ride-2', 'bo', 2_000, 4_100),
    accept('ride-1', 'bo', 1_000, 4_200),
    accept('ride-1', 'ann', 1_000, 5_000), // the winner again: nothing
    accept('ride-2', 'ann', 2_000, 5_100),
    accept('ride-3', 'dee', 3_000, 6_000),
    accept('ride-1', 'cy', 1_000, 6_100),
    { key: 'ride-4', value: JSON.stringify({ requestId: 'ride-4', requestTime: 1 }) }, // no driver
  ]);
  const out = await readTopic(run.output, { until: (records) => records.length >= 6, timeoutMs: 30_000 });
  const settled = await readTopic(run.output, { idleMs: 2_000, timeoutMs: 10_000 });
  assert.equal(settled.length, out.length, 'exactly six dispatch events');
  const events = settled
    .map((r) => [r.key, r.headers['convoy-dispatch-kind'], json(r)] as const)
    .sort((a, b) => ((a[2]['acceptTime'] as number) - (b[2]['acceptTime'] as number)));
  assert.deepEqual(events, [
    ['ann', 'assignment', { type: 'assignment', requestId: 'ride-1', driverId: 'ann', requestTime: 1_000, acceptTime: 4_000 }],
    ['bo', 'assignment', { type: 'assignment', requestId: 'ride-2', driverId: 'bo', requestTime: 2_000, acceptTime: 4_100 }],
    ['bo', 'cancellation', { type: 'cancellation', requestId: 'ride-1', driverId: 'bo', acceptTime: 4_200, reason: 'already-assigned' }],
    ['ann', 'cancellation', { type: 'cancellation', requestId: 'ride-2', driverId: 'ann', acceptTime: 5_100, reason: 'already-assigned' }],
    ['dee', 'assignment', { type: 'assignment', requestId: 'ride-3', driverId: 'dee', requestTime: 3_000, acceptTime: 6_000 }],
    ['cy', 'cancellation', { type: 'cancellation', requestId: 'ride-1', driverId: 'cy', acceptTime: 6_100, reason: 'already-assigned' }],
  ]);
  const dlq = await readTopic(run.dlq, { until: (records) => records.length >= 1, timeoutMs: 15_000 });
  assert.deepEqual(dlq.map((r) => [r.key, r.headers['convoy-error-code']]), [['ride-4', 'AGGREGATOR_BAD_ACCEPT']]);
  assert.equal(await run.proc.metric('convoy_aggregator_assignments_total'), 3);
  assert.equal(await run.proc.metric('convoy_aggregator_cancellations_total', { reason: 'already-assigned' }), 3);
  assert.equal(await run.proc.metric('convoy_aggregator_dispatch_duplicates_total'), 1);
});
