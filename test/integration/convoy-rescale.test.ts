// Rescaling the sequential convoy on the real broker: sub-streams 2 → 4 → 2 while events flow, with
// the splitter restarted (once gracefully, once with kill -9) at each change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderEvents, produceInput, readInput, readOrderedSettled, startConvoy, verdict, type RunningConvoy } from '../harness/convoy.ts';
import { ServiceProcess } from '../harness/processes.ts';
import { deleteTopics, readTopic, withAdmin } from '../harness/topics.ts';

const FAST_MARKERS = { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' };
const FILTER = { WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"dropEveryNth":10}' };
const filtered = (r: { offset: number }) => (r.offset + 1) % 10 === 0;

function splitterEnv(convoy: RunningConvoy, substreams: number): Record<string, string> {
  // The same environment startConvoy gives the splitter, with a new sub-stream count.
  return {
    SPLITTER_INPUT_TOPIC: convoy.topics.input,
    SPLITTER_SUBSTREAMS_TOPIC: convoy.topics.substreams,
    SPLITTER_DLQ_TOPIC: convoy.topics.dlq,
    SPLITTER_GROUP_ID: convoy.groups[0]!,
    SPLITTER_TRANSACTIONAL_ID_PREFIX: convoy.groups[0]!,
    ...FAST_MARKERS,
    SPLITTER_SUBSTREAMS: String(substreams),
  };
}

function workerEnv(convoy: RunningConvoy, sourcePartitions: number): Record<string, string> {
  return {
    WORKER_INPUT_TOPIC: convoy.topics.substreams,
    WORKER_PROCESSED_TOPIC: convoy.topics.processed,
    WORKER_PROCESSED_PARTITIONS: String(sourcePartitions),
    WORKER_DLQ_TOPIC: convoy.topics.dlq,
    WORKER_GROUP_ID: convoy.groups[1]!,
    ...FILTER,
  };
}

/** Unfiltered records among the first `count` input offsets of each partition are what the merger must release. */
async function waitOrdered(convoy: RunningConvoy, expected: number): Promise<void> {
  await readTopic(convoy.topics.ordered, { until: (rs) => rs.length >= expected, timeoutMs: 120_000 });
}

test('rescale 2 → 4 → 2 sub-streams at seq boundaries: exact order per source partition, every gap closed by markers', async (t) => {
  const sourcePartitions = 2;
  const convoy = await startConvoy(t, { sourcePartitions, workers: 2, splitterEnv: FAST_MARKERS, workerEnv: FILTER });
  const extra: ServiceProcess[] = [];
  t.after(async () => {
    await Promise.all(extra.map((p) => p.kill('SIGKILL')));
    await deleteTopics([`${convoy.topics.substreams}.splitter-state`]).catch(() => undefined);
  });
  const expectedAfter = async (count: number) => (await readInput(convoy, count)).filter((r) => !filtered(r)).length;

  // Epoch 0: 2 sub-streams.
  await produceInput(convoy, orderEvents(10_000, 200, 21));
  await waitOrdered(convoy, await expectedAfter(10_000));

  // Epoch 1: grow the topic, restart the splitter with 4 (graceful stop), add 2 workers.
  await withAdmin((admin) => admin.createPartitions({ topicPartitions: [{ topic: convoy.topics.substreams, count: 4 }] }));
  await convoy.splitter.stop();
  const splitter4 = await ServiceProcess.start({ service: 'splitter', name: 'splitter-4', env: splitterEnv(convoy, 4) });
  extra.push(splitter4);
  for (const i of [2, 3]) extra.push(await ServiceProcess.start({ service: 'worker', name: `worker-${i}`, env: workerEnv(convoy, sourcePartitions) }));
  await Promise.all(extra.map((p) => p.ready(90_000)));
  await produceInput(convoy, orderEvents(10_000, 200, 22, 10_000));
  await waitOrdered(convoy, await expectedAfter(20_000));
  assert.equal(await splitter4.metric('convoy_splitter_epoch_switches_total'), sourcePartitions);

  // Epoch 2: back to 2 sub-streams (kill -9 this time); partitions 2 and 3 only drain.
  await splitter4.kill('SIGKILL');
  const splitter2 = await ServiceProcess.start({ service: 'splitter', name: 'splitter-2', env: splitterEnv(convoy, 2) });
  extra.push(splitter2);
  await splitter2.ready(90_000);
  await produceInput(convoy, orderEvents(5_000, 200, 23, 20_000));

  const input = await readInput(convoy, 25_000);
  const expected = input.filter((r) => !filtered(r)).length;
  const output = await readOrderedSettled(convoy, expected, 120_000, 2_000);
  const v = verdict(input, output, filtered);
  t.diagnostic(`verdict ${JSON.stringify({ ...v, problems: v.problems.slice(0, 5) })}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, expected);
  assert.equal(await splitter2.metric('convoy_splitter_epoch_switches_total'), sourcePartitions);
  assert.equal(await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
  assert.equal(await convoy.merger.metric('convoy_merger_dead_letters_total'), 0);

  // Each epoch routed its data with its own count: epoch 1 into all 4 sub-streams, epochs 0 and 2 into 0..1 only.
  const substreams = await readTopic(convoy.topics.substreams, { idleMs: 1_000 });
  const partitionsByEpoch = new Map<string, Set<number>>();
  for (const r of substreams) {
    if (r.headers['convoy-kind'] !== 'data') continue;
    const epoch = r.headers['convoy-epoch'] ?? '?';
    const set = partitionsByEpoch.get(epoch) ?? new Set<number>();
    set.add(r.partition);
    partitionsByEpoch.set(epoch, set);
  }
  assert.deepEqual(
    Object.fromEntries([...partitionsByEpoch].map(([e, s]) => [e, [...s].sort()])),
    { '0': [0, 1], '1': [0, 1, 2, 3], '2': [0, 1] },
  );
});
