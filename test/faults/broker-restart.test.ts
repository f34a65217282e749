// Fault case 2 (issue #7): the broker goes away for ~20 s mid-run and comes back. Every service
// must reconnect by itself (same pid, no restart by the test) and become ready again, and the
// verdict must pass. Runs on a private broker: the shared one on 9092 is never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInput, startConvoy, verdict, type RunningConvoy } from '../harness/convoy.ts';
import { lateTopicOf, PrivateBroker, problemLogs, readSettled, readyStatus, sampleEvery, startLoad, waitUntil } from '../harness/faults.ts';
import { readTopic } from '../harness/topics.ts';

const OUTAGE_MS = 20_000;

test('broker restart: a 20 s broker outage mid-run; every service reconnects on its own, nothing lost, duplicated or reordered', async (t) => {
  const broker = await PrivateBroker.start();
  // Every helper (topics.ts) and every spawned service reads KAFKA_BROKERS: point them all at the private broker.
  process.env['KAFKA_BROKERS'] = broker.brokers;
  let convoy: RunningConvoy;
  try {
    // startConvoy's own cleanup (registered on t) kills the processes; the broker goes after it (hooks run in order).
    convoy = await startConvoy(t, {
      sourcePartitions: 3,
      workers: 2,
      splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
      mergerEnv: { MERGER_GAP_TIMEOUT_MS: '300s', MERGER_NEVER_DROP: 'true' },
    });
  } finally {
    t.after(() => broker.destroy());
  }
  const processes = convoy.all();
  const pids = processes.map((p) => p.pid);

  const load = startLoad(convoy.topics.input, { ratePerSec: 1_000, total: 50_000, seed: 22 });
  t.after(() => load.stop());
  await new Promise((r) => setTimeout(r, 12_000));
  const ready = sampleEvery(1_000, () => Promise.all(processes.map(readyStatus)));
  const stoppedAt = Date.now();
  await broker.stopKafka('SIGTERM');
  const stopTook = Date.now() - stoppedAt;
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  await broker.startKafka();
  const backAt = Date.now();
  await waitUntil(
    async () => (await Promise.all(processes.map(readyStatus))).every((s) => s === 200),
    240_000,
    () => `not every service ready again:\n${processes.map((p) => `${p.name} running=${p.running}\n${p.logTail(10)}`).join('\n')}`,
  );
  const readyAfterMs = Date.now() - backAt;
  await new Promise((r) => setTimeout(r, 2_000));
  await ready.stop();

  // /readyz over the outage, per process: how many 1 s samples answered 200 / 503 / nothing.
  const seen = processes.map((p, i) => {
    const counts: Record<string, number> = {};
    for (const s of ready.samples) counts[String(s.value[i])] = (counts[String(s.value[i])] ?? 0) + 1;
    return `${p.name} ${JSON.stringify(counts)}`;
  });
  t.diagnostic(`broker stop took ${stopTook} ms, down ${OUTAGE_MS} ms; all ready ${readyAfterMs} ms after it was back; /readyz samples: ${seen.join('; ')}`);

  // Readiness tells the truth: every service reported not ready while the broker was gone, and ready again after.
  for (const [i, p] of processes.entries()) {
    assert.ok(ready.samples.some((s) => s.value[i] !== 200), `${p.name} stayed ready through a ${OUTAGE_MS} ms outage`);
  }
  // Reconnected by themselves: the very same processes.
  assert.deepEqual(processes.map((p) => p.pid), pids);
  assert.deepEqual(processes.map((p) => p.running), processes.map(() => true), 'a service exited during the outage');

  const sent = await load.done;
  t.diagnostic(`load: ${sent} events, ${load.failures()} sends retried during the outage`);
  const input = await readInput(convoy, sent);
  // Drained by the same processes (none exited after the outage either).
  await waitUntil(
    async () => processes.some((p) => !p.running) || (await convoy!.merger.metric('convoy_merger_events_out_total')) >= input.length,
    240_000,
    () => `not drained:\n${problemLogs(processes)}`,
  );
  if (processes.some((p) => !p.running)) assert.fail(`a service exited after the outage:\n${problemLogs(processes)}`);
  assert.deepEqual(processes.map((p) => p.pid), pids);
  const output = await readSettled(convoy.topics.ordered, input.length, 240_000, 5_000);
  const v = verdict(input, output);
  t.diagnostic(`verdict ${JSON.stringify({ ...v, problems: v.problems.slice(0, 5) })}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, input.length);
  assert.equal((await readTopic(lateTopicOf(convoy), { idleMs: 1_000, timeoutMs: 10_000 })).length, 0);
  assert.equal(await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
  const series = async (p: (typeof processes)[number], name: string, labels: Record<string, string> = {}) => p.metric(`convoy_${p.name.replace(/-\d+$/, '')}_kafka_${name}`, labels);
  const perProcess = await Promise.all(
    processes.map(async (p) => `${p.name}: aborted ${await series(p, 'transactions_total', { outcome: 'aborted' })}, rebalances ${await series(p, 'rebalances_total')}, fenced re-joins ${await series(p, 'fenced_rejoins_total')}, consumer restarts ${await series(p, 'consumer_restarts_total')}`),
  );
  t.diagnostic(`per process: ${perProcess.join('; ')}`);
});
