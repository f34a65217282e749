// Fault case 4 (issue #7): the worker group scaled 2 → 4 → 1 while load runs (kafkajs #1046,
// #1720, #130: duplicate commits after a rebalance, members falling out during long batches).
// Every change is a consumer-group rebalance, visible in the metrics; per-partition transactional
// ids fence the previous owner, so the verdict stays exact and the merger sees no duplicate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInput, startConvoy, verdict } from '../harness/convoy.ts';
import { lateTopicOf, readSettled, startLoad, waitUntil, workerEnvOf } from '../harness/faults.ts';
import { ServiceProcess } from '../harness/processes.ts';
import { readTopic } from '../harness/topics.ts';

const SOURCE_PARTITIONS = 3;
const SUBSTREAMS = 4;

test('rebalance: workers 2 → 4 → 1 under 1,000 events/s; rebalances counted, verdict exact, no duplicate reaches the merger', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: SOURCE_PARTITIONS,
    workers: 2,
    substreams: SUBSTREAMS,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
    mergerEnv: { MERGER_GAP_TIMEOUT_MS: '300s', MERGER_NEVER_DROP: 'true' },
  });
  const extra: ServiceProcess[] = [];
  t.after(() => Promise.all(extra.map((p) => p.kill('SIGKILL'))));
  const assigned = (p: ServiceProcess) => p.metric('convoy_worker_kafka_partitions_assigned');
  const rebalances = (p: ServiceProcess) => p.metric('convoy_worker_kafka_rebalances_total');
  const [w0, w1] = convoy.workers as [ServiceProcess, ServiceProcess];
  await waitUntil(async () => (await assigned(w0)) + (await assigned(w1)) === SUBSTREAMS, 60_000, () => 'two workers never owned all sub-streams');
  const before = { w0: await assigned(w0), w1: await assigned(w1), w0Rebalances: await rebalances(w0) };

  const load = startLoad(convoy.topics.input, { ratePerSec: 1_000, total: 60_000, seed: 44 });
  t.after(() => load.stop());
  await new Promise((r) => setTimeout(r, 10_000));

  // 2 → 4: two more members join the group.
  for (const i of [2, 3]) extra.push(await ServiceProcess.start({ service: 'worker', name: `worker-${i}`, env: workerEnvOf(convoy, SOURCE_PARTITIONS) }));
  await Promise.all(extra.map((p) => p.ready(90_000)));
  const four = [w0, w1, ...extra];
  await waitUntil(async () => (await Promise.all(four.map(assigned))).every((n) => n === 1), 90_000, () => 'four workers never owned one sub-stream each');
  const atFour = await Promise.all(four.map(assigned));
  await new Promise((r) => setTimeout(r, 10_000));

  // 4 → 1: two leave gracefully (SIGTERM: finish the transaction, leave the group), one crashes.
  const [w2, w3] = extra as [ServiceProcess, ServiceProcess];
  const exitCodes = await Promise.all([w1.stop(), w2.stop()]);
  await w3.kill('SIGKILL');
  await waitUntil(async () => (await assigned(w0)) === SUBSTREAMS, 90_000, () => `worker-0 never took over all sub-streams:\n${w0.logTail(10)}`);
  const w0Rebalances = (await rebalances(w0)) - before.w0Rebalances;

  const sent = await load.done;
  const input = await readInput(convoy, sent);
  const output = await readSettled(convoy.topics.ordered, input.length, 240_000, 5_000);
  const v = verdict(input, output);
  const merger = {
    duplicates: await convoy.merger.metric('convoy_merger_duplicates_total'),
    gapsByTimeout: await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }),
    rebalances: await convoy.merger.metric('convoy_merger_kafka_rebalances_total'),
  };
  const w0Transactions = {
    committed: await w0.metric('convoy_worker_kafka_transactions_total', { outcome: 'committed' }),
    aborted: await w0.metric('convoy_worker_kafka_transactions_total', { outcome: 'aborted' }),
  };
  t.diagnostic(
    `assigned before ${JSON.stringify(before)}, at four ${JSON.stringify(atFour)}; worker-0 rebalances during the run ${w0Rebalances}, ` +
      `transactions ${JSON.stringify(w0Transactions)}; graceful exit codes ${JSON.stringify(exitCodes)}; merger ${JSON.stringify(merger)}; verdict ${JSON.stringify({ ...v, problems: v.problems.slice(0, 5) })}`,
  );
  assert.deepEqual([before.w0, before.w1].sort(), [2, 2]);
  assert.deepEqual(atFour, [1, 1, 1, 1]);
  assert.deepEqual(exitCodes, [0, 0]);
  // At least: the two joins, and the leave (the crashed member's expiry may or may not fold into it).
  assert.ok(w0Rebalances >= 2, `worker-0 saw ${w0Rebalances} rebalances`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, input.length);
  assert.equal(merger.duplicates, 0, 'a revoked worker\'s output reached the merger twice');
  assert.equal(merger.gapsByTimeout, 0);
  assert.equal((await readTopic(lateTopicOf(convoy), { idleMs: 1_000, timeoutMs: 10_000 })).length, 0);
  assert.equal((await readTopic(convoy.topics.dlq, { idleMs: 1_000, timeoutMs: 10_000 })).length, 0);
});
