// Fault case 5, reorder-buffer side (issue #7): stream A's odd seqs never arrive (the source that
// carries them stopped) while A's even seqs and streams B, C, D keep coming. With the gap timeout
// far away, A's evens pile up behind its gaps: the buffer must stay at or under its caps, overflow
// (force-oldest) must fire and be counted, the service's RSS must stay flat, and once the stopped
// source catches up nothing is lost (REORDER_NEVER_DROP: ordered ∪ late = everything, once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssKiB, sampleEvery, stats, waitUntil } from '../harness/faults.ts';
import { ServiceProcess, sumMetric } from '../harness/processes.ts';
import { testStack, uniqueName } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, readTopic, seqsByKey, testKafka, type ProduceRecord } from '../harness/topics.ts';

const CAPACITY = 2_000;
const CAPACITY_BYTES = 1024 * 1024;
const PAD = 'x'.repeat(1_024);
const STREAMS = ['A', 'B', 'C', 'D'];
/** Seqs per stream per step, steps per second, steps: 25,000 seqs per stream over ~50 s. */
const SEQS_PER_STEP = 100;
const STEPS_PER_SEC = 5;
const STEPS = 250;
const WARM_UP_MS = 20_000;
/** Generous, as in the merger's case: it catches gross growth; the exact check is the buffer gauge. */
const RSS_SPREAD_LIMIT_KIB = 64 * 1024;

const record = (stream: string, seq: number): ProduceRecord => ({
  partition: 0,
  key: stream,
  value: JSON.stringify({ stream, seq, pad: PAD }),
  headers: { 'convoy-seq': String(seq) },
});

const isWithheld = (stream: string, seq: number) => stream === 'A' && seq % 2 === 1;

test('back-pressure (reorder buffer): a stopped source leaves gaps behind a flowing stream; buffer within caps, overflow counted, RSS flat, none lost', { timeout: 300_000 }, async (t) => {
  testStack();
  const input = uniqueName('reorder-bp-in');
  const output = uniqueName('reorder-bp-out');
  const late = `${output}.late`;
  const group = uniqueName('reorder-bp-group');
  await createTopics([{ topic: input, partitions: 1 }]);
  t.after(async () => {
    await deleteTopics([input, output, late, `${output}.dlq`]);
    await deleteGroups([group]);
  });
  const service = await ServiceProcess.start({
    service: 'reorder-buffer',
    env: {
      REORDER_INPUT_TOPIC: input,
      REORDER_OUTPUT_TOPIC: output,
      REORDER_DLQ_TOPIC: `${output}.dlq`,
      REORDER_GROUP_ID: group,
      REORDER_GAP_TIMEOUT_MS: '600s',
      REORDER_TICK_INTERVAL_MS: '100ms',
      REORDER_CAPACITY: String(CAPACITY),
      REORDER_CAPACITY_BYTES: String(CAPACITY_BYTES),
      REORDER_OVERFLOW: 'force-oldest',
      REORDER_LATE_POLICY: 'route-late',
      REORDER_NEVER_DROP: '*',
    },
  });
  t.after(() => service.kill('SIGKILL'));
  await service.ready();

  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  t.after(() => producer.disconnect());
  const buffer = sampleEvery(500, async () => {
    const text = await service.metrics();
    return { events: sumMetric(text, 'convoy_reorder_buffer_buffer_events'), bytes: sumMetric(text, 'convoy_reorder_buffer_buffer_bytes') };
  });
  const rss = sampleEvery(1_000, () => {
    const kib = rssKiB(service.pid);
    if (kib === undefined) throw new Error('reorder buffer gone');
    return kib;
  });
  const started = Date.now();
  for (let step = 0; step < STEPS; step++) {
    const messages: ProduceRecord[] = [];
    for (let seq = step * SEQS_PER_STEP; seq < (step + 1) * SEQS_PER_STEP; seq++) {
      for (const stream of STREAMS) if (!isWithheld(stream, seq)) messages.push(record(stream, seq));
    }
    await producer.send({ topic: input, acks: -1, messages });
    const due = started + ((step + 1) * 1000) / STEPS_PER_SEC;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  const loadMs = Date.now() - started;
  await sleep(2_000);
  await Promise.all([buffer.stop(), rss.stop()]);
  const overflowWhileStopped = await service.metric('convoy_reorder_buffer_gaps_resolved_total', { by: 'overflow' });
  const timeoutsWhileStopped = await service.metric('convoy_reorder_buffer_gaps_resolved_total', { by: 'timeout' });
  const releasedWhileStopped = await service.metric('convoy_reorder_buffer_events_out_total');

  // The stopped source catches up: every withheld record arrives, late or just in time.
  const total = STEPS * SEQS_PER_STEP;
  const withheld: ProduceRecord[] = [];
  for (let seq = 1; seq < total; seq += 2) withheld.push(record('A', seq));
  for (let i = 0; i < withheld.length; i += 500) await producer.send({ topic: input, acks: -1, messages: withheld.slice(i, i + 500) }); // 500 × 1 KiB: under the broker's 1 MiB batch limit
  const expected = total * STREAMS.length;
  await waitUntil(
    async () => (await service.metric('convoy_reorder_buffer_events_out_total')) + (await service.metric('convoy_reorder_buffer_late_total', { policy: 'route-late' })) >= expected,
    120_000,
    () => `the reorder buffer did not account for all ${expected} records:\n${service.logTail(10)}`,
  );
  const ordered = await readTopic(output, { idleMs: 3_000, timeoutMs: 120_000 });
  const routed = await readTopic(late, { idleMs: 3_000, timeoutMs: 60_000 });

  const steady = rss.samples.filter((s) => s.atMs >= WARM_UP_MS).map((s) => s.value);
  const rssStats = stats(steady);
  const bufferEvents = stats(buffer.samples.map((s) => s.value.events));
  const bufferBytes = stats(buffer.samples.map((s) => s.value.bytes));
  const counted = {
    overflowWhileStopped,
    timeoutsWhileStopped,
    releasedWhileStopped,
    routedLate: await service.metric('convoy_reorder_buffer_late_total', { policy: 'route-late' }),
    dropped: await service.metric('convoy_reorder_buffer_late_total', { policy: 'drop' }),
    rejections: await service.metric('convoy_reorder_buffer_back_pressure_rejections_total'),
  };
  t.diagnostic(
    `load ${STEPS * SEQS_PER_STEP * STREAMS.length - withheld.length} records in ${loadMs} ms, then ${withheld.length} withheld; buffer max ${bufferEvents.max} events / ${bufferBytes.max} bytes over ${buffer.samples.length} samples; ` +
      `RSS after ${WARM_UP_MS} ms: min ${rssStats.min} KiB, max ${rssStats.max} KiB, spread ${rssStats.max - rssStats.min} KiB over ${steady.length} samples; ${JSON.stringify(counted)}; ` +
      `ordered ${ordered.length}, late ${routed.length}; RSS MiB every 5 s: ${steady.filter((_, i) => i % 5 === 0).map((k) => (k / 1024).toFixed(0)).join(' ')}`,
  );

  assert.ok(buffer.samples.length >= 60, `only ${buffer.samples.length} buffer samples`);
  assert.ok(bufferEvents.max <= CAPACITY, `buffer held ${bufferEvents.max} events`);
  assert.ok(bufferBytes.max <= CAPACITY_BYTES, `buffer held ${bufferBytes.max} bytes`);
  assert.ok(bufferBytes.max >= CAPACITY_BYTES / 2, `the buffer never came near its byte cap (${bufferBytes.max} bytes): the test did not test overflow`);
  assert.ok(overflowWhileStopped > 0, 'overflow never fired');
  assert.equal(timeoutsWhileStopped, 0);
  assert.ok(steady.length >= 20, `only ${steady.length} RSS samples after warm-up`);
  assert.ok(rssStats.max - rssStats.min < RSS_SPREAD_LIMIT_KIB, `RSS spread ${rssStats.max - rssStats.min} KiB`);

  // Ordered: strictly increasing per stream. B, C, D complete and never late.
  const orderedSeqs = seqsByKey(ordered);
  const lateSeqs = seqsByKey(routed);
  const all = Array.from({ length: total }, (_, i) => i);
  for (const stream of ['B', 'C', 'D']) {
    assert.deepEqual(orderedSeqs.get(stream), all, `stream ${stream}`);
    assert.equal(lateSeqs.get(stream), undefined, `stream ${stream} had late records`);
  }
  const a = orderedSeqs.get('A') ?? [];
  for (let i = 1; i < a.length; i++) assert.ok(a[i]! > a[i - 1]!, `stream A out of order at ${i}: ${a[i - 1]} then ${a[i]}`);
  // A: ordered ∪ late holds every seq exactly once; only withheld seqs are late, each flagged.
  const aLate = lateSeqs.get('A') ?? [];
  assert.deepEqual([...a, ...aLate].sort((x, y) => x - y), all);
  assert.ok(aLate.every((seq) => isWithheld('A', seq)), 'a record that was never withheld went late');
  assert.ok(routed.every((r) => r.headers['convoy-late'] === 'true'));
  assert.ok(aLate.length > 0);
  // Each overflow skipped exactly one withheld seq, and each of those came back late.
  assert.equal(counted.routedLate, routed.length);
  assert.equal(overflowWhileStopped, aLate.length);
  assert.equal(counted.dropped, 0);
});
