// The sequential convoy end to end on the real broker: splitter → workers → merger as processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderEvents, produceInput, readInput, readOrderedSettled, startConvoy, verdict } from '../harness/convoy.ts';
import { readTopic } from '../harness/topics.ts';

const FAST_MARKERS = { SPLITTER_MARKER_INTERVAL_MS: '100', SPLITTER_MARKER_IDLE_INTERVAL_MS: '500' };

test('order: 100,000 events over 1,000 customers, 3 source partitions, 4 workers come out in exact source order', async (t) => {
  const convoy = await startConvoy(t, { sourcePartitions: 3, workers: 4, splitterEnv: FAST_MARKERS });
  const started = Date.now();
  await produceInput(convoy, orderEvents(100_000, 1_000, 1));
  const input = await readInput(convoy, 100_000);
  const output = await readOrderedSettled(convoy, 100_000);
  const v = verdict(input, output);
  t.diagnostic(`100000 events end to end in ${((Date.now() - started) / 1000).toFixed(1)} s; verdict ${JSON.stringify(v)}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, 100_000);

  // Affinity: every customer's events went through exactly one sub-stream (one worker).
  const substreams = await readTopic(convoy.topics.substreams, { idleMs: 2_000 });
  const route = new Map<string, Set<number>>();
  for (const r of substreams) {
    if (r.headers['convoy-kind'] !== 'data' || r.key === null) continue;
    const set = route.get(r.key) ?? new Set<number>();
    set.add(r.partition);
    route.set(r.key, set);
  }
  assert.equal(route.size, 1_000);
  assert.ok([...route.values()].every((s) => s.size === 1), 'a customer was split across workers');
});

test('filtering: 10% filtered by workers leaves exactly the rest, in order, with every gap closed by markers', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: 3,
    workers: 4,
    splitterEnv: FAST_MARKERS,
    workerEnv: { WORKER_PROCESSOR: 'filter', WORKER_FILTER: '{"dropEveryNth":10}' },
  });
  await produceInput(convoy, orderEvents(30_000, 1_000, 2));
  const input = await readInput(convoy, 30_000);
  const filtered = (r: { offset: number }) => (r.offset + 1) % 10 === 0;
  const expected = input.filter((r) => !filtered(r)).length;
  const output = await readOrderedSettled(convoy, expected);
  const v = verdict(input, output, filtered);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, expected);
  assert.equal(await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'timeout' }), 0);
  assert.ok((await convoy.merger.metric('convoy_merger_gaps_resolved_total', { by: 'marker' })) > 0);
});

test('bad input: malformed records and records without a customer ID are dead-lettered, the rest is unaffected', async (t) => {
  const convoy = await startConvoy(t, {
    sourcePartitions: 3,
    workers: 2,
    splitterEnv: { ...FAST_MARKERS, SPLITTER_KEY_SOURCE: 'field:customerId' },
  });
  const good = orderEvents(3_000, 100, 3);
  const records = good.flatMap((r, i) =>
    i % 300 === 0
      ? [r, { key: 'junk', value: Buffer.from([0xff, 0x00, 0x13, 0x37]) }, { key: 'nobody', value: '{"id":-1,"amount":5}' }]
      : [r],
  );
  await produceInput(convoy, records);
  const input = await readInput(convoy, records.length);
  const bad = (r: { value: Buffer | null }) => !(r.value?.toString().includes('"customerId"') ?? false);
  const output = await readOrderedSettled(convoy, good.length);
  const v = verdict(input, output, bad);
  assert.equal(v.ok, true, v.problems.join('; '));
  const dead = await readTopic(convoy.topics.dlq, { until: (rs) => rs.length >= 20, timeoutMs: 30_000 });
  assert.equal(dead.length, 20);
  const codes = dead.map((r) => r.headers['convoy-error-code']).sort();
  assert.deepEqual(new Set(codes), new Set(['CODEC_DECODE_FAILED', 'SPLITTER_MISSING_CUSTOMER_ID']));
  for (const r of dead) {
    assert.equal(r.headers['convoy-error-stage'], 'splitter');
    assert.equal(r.headers['__connect.errors.topic'], convoy.topics.input);
    const origin = input.find((i) => i.partition === Number(r.headers['__connect.errors.partition']) && i.offset === Number(r.headers['__connect.errors.offset']));
    assert.deepEqual(r.value, origin?.value, 'dead letter keeps the original bytes');
  }
});

test('crashes: a worker, then the merger, then the splitter killed with SIGKILL mid-run lose nothing and duplicate nothing', async (t) => {
  const convoy = await startConvoy(t, { sourcePartitions: 3, workers: 3, splitterEnv: FAST_MARKERS });
  const chunks = 6;
  const perChunk = 10_000;
  const victims = [convoy.workers[1]!, convoy.merger, convoy.splitter];
  for (let c = 0; c < chunks; c++) {
    await produceInput(convoy, orderEvents(perChunk, 1_000, 100 + c, c * perChunk));
    const victim = victims[c % victims.length]!;
    if (c < chunks - 1) {
      await new Promise((r) => setTimeout(r, 500));
      await victim.kill('SIGKILL');
      t.diagnostic(`killed ${victim.name} after chunk ${c + 1}`);
      await new Promise((r) => setTimeout(r, 500));
      victim.spawn();
      await victim.ready(90_000);
    }
  }
  const total = chunks * perChunk;
  const input = await readInput(convoy, total);
  const output = await readOrderedSettled(convoy, total, 240_000, 5_000);
  const v = verdict(input, output);
  t.diagnostic(`verdict ${JSON.stringify(v)}`);
  assert.equal(v.ok, true, v.problems.join('; '));
  assert.equal(output.length, total);
});
