// Fault case 1 (issue #7): steady load through the whole convoy while a random process is
// SIGKILLed and restarted every few seconds for over a minute (1.5–3.5 s after the previous victim
// is ready again; a worker's restart takes ~5 s: the group waits for the dead member's session). Nothing may be lost, duplicated or
// reordered on the ordered topic, and nothing may be skipped into the late topic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng, readInput, startConvoy, verdict } from '../harness/convoy.ts';
import { lateTopicOf, readSettled, startLoad } from '../harness/faults.ts';
import { readTopic } from '../harness/topics.ts';

const TOTAL = 110_000;
const RATE = 1_500;
const KILL_LOOP_MS = 65_000;

test('kill loop: 110,000 events at 1,500/s while a random convoy process is SIGKILLed every few seconds for 65 s', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' },
    // Far above the worst restart stall (session timeout 6 s + rejoin): a skipped gap would be a bug here.
    mergerEnv: { MERGER_GAP_TIMEOUT_MS: '300s', MERGER_NEVER_DROP: 'true' },
  });
  const started = Date.now();
  const load = startLoad(convoy.topics.input, { ratePerSec: RATE, total: TOTAL, seed: 11 });
  t.after(() => load.stop());
  const random = prng(2026);
  const kills: string[] = [];
  while (Date.now() - started < KILL_LOOP_MS) {
    await new Promise((r) => setTimeout(r, 1_500 + random() * 2_000));
    const processes = convoy.all();
    const victim = processes[Math.floor(random() * processes.length)]!;
    await victim.kill('SIGKILL');
    kills.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${victim.name}`);
    await new Promise((r) => setTimeout(r, 200 + random() * 800));
    victim.spawn();
    await victim.ready(90_000);
  }
  const sent = await load.done;
  t.diagnostic(`${kills.length} kills in ${((Date.now() - started) / 1000).toFixed(0)} s: ${kills.join(', ')}`);
  t.diagnostic(`load: ${sent} events sent, producer produced ${load.produced()} with ${load.failures()} retried sends`);

  const input = await readInput(convoy, sent);
  const output = await readSettled(convoy.topics.ordered, input.length, 300_000, 5_000);
  const v = verdict(input, output);
  t.diagnostic(`drained ${((Date.now() - started) / 1000).toFixed(0)} s after the first produce; verdict ${JSON.stringify({ ...v, problems: v.problems.slice(0, 5) })}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, input.length);
  assert.ok(input.length >= 100_000);
  assert.ok(kills.length >= 8, `only ${kills.length} kills`);
  const victims = new Set(kills.map((k) => k.split(' ')[1]));
  assert.ok(victims.has('splitter') && victims.has('merger') && (victims.has('worker-0') || victims.has('worker-1')), `victims: ${[...victims].join(', ')}`);

  // Nothing skipped, nothing dead-lettered; the processes that ran to the end saw transactions abort and retry.
  assert.equal((await readTopic(lateTopicOf(convoy), { idleMs: 1_000, timeoutMs: 10_000 })).length, 0);
  assert.equal((await readTopic(convoy.topics.dlq, { idleMs: 1_000, timeoutMs: 10_000 })).length, 0);
  const resumes = await convoy.merger.metric('convoy_merger_resumes_total');
  t.diagnostic(`merger (last incarnation): resumes ${resumes}, duplicates dropped ${await convoy.merger.metric('convoy_merger_duplicates_total')}, gaps by timeout ${await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' })}`);
  assert.equal(await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
});
