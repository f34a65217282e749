/**
 * The reorder buffer against the real broker: (1) a trace with random delays and bursts over a few
 * streams comes out in order per stream, across a kill -9 and restart, with nothing lost or
 * duplicated (read_committed); (2) a silent source triggers the gap timeout and its late arrivals
 * follow each late policy; bad records go to the DLQ.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName, testStack } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, seqsByKey, withAdmin, type ProduceRecord } from '../harness/topics.ts';

function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** Seqs [from, to) of each stream, each delayed by up to `maxDelay` positions, in bursts. */
function trace(streams: readonly string[], from: number, to: number, rand: () => number, maxDelay: number): ProduceRecord[] {
  const slots: { at: number; record: ProduceRecord }[] = [];
  let position = 0;
  for (let seq = from; seq < to; seq++) {
    for (const [i, stream] of streams.entries()) {
      const burst = rand() < 0.1 ? maxDelay * 3 : 0;
      slots.push({
        at: position++ + Math.floor(rand() * maxDelay) + burst,
        record: { partition: i % 2, key: stream, value: JSON.stringify({ stream, seq }), headers: { 'convoy-seq': String(seq) } },
      });
    }
  }
  return slots.sort((a, b) => a.at - b.at).map((s) => s.record);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('reorder-buffer: in order per stream under delays and bursts, across kill -9 without loss or duplicates', { timeout: 90_000 }, async (t) => {
  testStack();
  const input = uniqueName('reorder-in');
  const output = uniqueName('reorder-out');
  const group = uniqueName('reorder-group');
  await createTopics([{ topic: input, partitions: 2 }]);
  t.after(async () => {
    await deleteTopics([input, output, `${output}.late`, `${output}.dlq`]);
    await deleteGroups([group]);
  });
  const streams = ['s0', 's1', 's2', 's3'];
  const rand = lcg(7);
  // Phase 1 ends without s1's seq 150: everything after it on s1 stays held, so the commit stays behind it.
  const phase1 = trace(streams, 0, 160, rand, 8).filter((r) => !(r.key === 's1' && r.headers?.['convoy-seq'] === '150'));
  await produce(input, phase1);
  const service = await ServiceProcess.start({
    service: 'reorder-buffer',
    env: {
      KAFKA_BROKERS: testStack().brokers.join(','),
      REORDER_INPUT_TOPIC: input,
      REORDER_OUTPUT_TOPIC: output,
      REORDER_DLQ_TOPIC: `${output}.dlq`,
      REORDER_GROUP_ID: group,
      REORDER_GAP_TIMEOUT_MS: '120s',
      REORDER_TICK_INTERVAL_MS: '100ms',
      REORDER_LATE_POLICY: 'route-late',
    },
  });
  t.after(() => service.kill('SIGKILL'));
  await service.ready();
  const expected1 = 160 * 3 + 150;
  const read1 = await readTopic(output, { until: (r) => r.length >= expected1, timeoutMs: 40_000 });
  const by1 = seqsByKey(read1);
  for (const s of streams) assert.deepEqual(by1.get(s), s === 's1' ? range(0, 150) : range(0, 160), `${s} phase 1\n${service.logTail()}`);

  await service.kill('SIGKILL');
  const phase2: ProduceRecord[] = [{ partition: 1, key: 's1', value: '{}', headers: { 'convoy-seq': '150' } }, ...trace(streams, 160, 220, rand, 8)];
  await produce(input, phase2);
  await service.restart();
  await service.ready();
  const read2 = await readTopic(output, { until: (r) => r.length >= 220 * 4, timeoutMs: 40_000, idleMs: 3_000 });
  await new Promise((r) => setTimeout(r, 1_500));
  const final = await readTopic(output, { until: (r) => r.length >= read2.length, timeoutMs: 10_000 });
  const by2 = seqsByKey(final);
  for (const s of streams) assert.deepEqual(by2.get(s), range(0, 220), `${s} after restart\n${service.logTail()}`);
  assert.equal(final.filter((r) => r.headers['convoy-late'] === 'true').length, 0);
});

test('reorder-buffer: a silent gap times out; late arrivals follow route-late, emit-flagged, drop; bad records are dead-lettered', { timeout: 60_000 }, async (t) => {
  testStack();
  const input = uniqueName('reorder-late-in');
  const output = uniqueName('reorder-late-out');
  const dlq = `${output}.dlq`;
  const group = uniqueName('reorder-late-group');
  await createTopics([{ topic: input, partitions: 1 }]);
  t.after(async () => {
    await deleteTopics([input, output, `${output}.late`, dlq]);
    await deleteGroups([group]);
  });
  const rec = (key: string | null, seq: number | null): ProduceRecord => ({
    partition: 0,
    key,
    value: JSON.stringify({ key, seq }),
    headers: seq === null ? {} : { 'convoy-seq': String(seq) },
  });
  // seq 1 of every stream is missing: its source went silent.
  await produce(input, ['route', 'flag', 'card', 'gone'].flatMap((k) => [rec(k, 0), rec(k, 2), rec(k, 3)]).concat([rec(null, 5), rec('route', null)]));
  const service = await ServiceProcess.start({
    service: 'reorder-buffer',
    env: {
      KAFKA_BROKERS: testStack().brokers.join(','),
      REORDER_INPUT_TOPIC: input,
      REORDER_OUTPUT_TOPIC: output,
      REORDER_DLQ_TOPIC: dlq,
      REORDER_GROUP_ID: group,
      REORDER_GAP_TIMEOUT_MS: '1s',
      REORDER_TICK_INTERVAL_MS: '100ms',
      REORDER_LATE_POLICY: 'route-late',
      REORDER_LATE_POLICIES: JSON.stringify({ flag: 'emit-flagged', card: 'emit-flagged', gone: 'drop' }),
      REORDER_NEVER_DROP: 'card',
    },
  });
  t.after(() => service.kill('SIGKILL'));
  await service.ready();
  const first = await readTopic(output, { until: (r) => r.length >= 12, timeoutMs: 30_000 });
  for (const k of ['route', 'flag', 'card', 'gone']) assert.deepEqual(seqsByKey(first).get(k), [0, 2, 3], `${k}\n${service.logTail()}`);
  assert.equal(await service.metric('convoy_reorder_buffer_gaps_resolved_total', { by: 'timeout' }), 4);

  await produce(input, ['route', 'flag', 'card', 'gone'].map((k) => rec(k, 1)));
  const late = await readTopic(`${output}.late`, { until: (r) => r.length >= 1, timeoutMs: 20_000 });
  assert.deepEqual(late.map((r) => [r.key, r.headers['convoy-seq'], r.headers['convoy-late']]), [['route', '1', 'true']]);
  const all = await readTopic(output, { until: (r) => r.length >= 14, timeoutMs: 20_000 });
  const flagged = all.filter((r) => r.headers['convoy-late'] === 'true').map((r) => `${r.key}:${r.headers['convoy-seq']}`);
  assert.deepEqual(flagged.sort(), ['card:1', 'flag:1']);
  assert.equal(all.length, 14);
  for (let i = 0; i < 50 && (await service.metric('convoy_reorder_buffer_late_total', { policy: 'drop' })) < 1; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await service.metric('convoy_reorder_buffer_late_total', { policy: 'drop' }), 1);
  assert.equal(await service.metric('convoy_reorder_buffer_late_total', { policy: 'route-late' }), 1);
  assert.equal(await service.metric('convoy_reorder_buffer_late_total', { policy: 'emit-flagged' }), 2);
  const dead = await readTopic(dlq, { until: (r) => r.length >= 2, timeoutMs: 20_000 });
  assert.deepEqual(dead.map((r) => r.headers['convoy-error-code']).sort(), ['REORDER_INVALID_SEQ', 'REORDER_MISSING_STREAM_KEY']);
});

test('reorder-buffer (event-time): a far-future event is dead-lettered, trimmed to the DLQ topic, and the next good record stays on time', { timeout: 60_000 }, async (t) => {
  testStack();
  const input = uniqueName('reorder-hostile-in');
  const output = uniqueName('reorder-hostile-out');
  const dlq = `${output}.dlq`;
  const group = uniqueName('reorder-hostile-group');
  await createTopics([{ topic: input, partitions: 1 }]);
  // A DLQ topic far smaller than the input's limit: a whole copy of the hostile record would be refused.
  await withAdmin((admin) =>
    admin.createTopics({ waitForLeaders: true, topics: [{ topic: dlq, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }] }),
  );
  t.after(async () => {
    await deleteTopics([input, output, `${output}.late`, dlq]);
    await deleteGroups([group]);
  });
  const now = Date.now();
  const at = (key: string, time: number, value = '{}'): ProduceRecord => ({ partition: 0, key, value, headers: { t: String(time) } });
  await produce(input, [at('s', now - 3_000), at('s', 8.64e15, 'x'.repeat(50_000)), at('s', now - 2_000)]);
  const service = await ServiceProcess.start({
    service: 'reorder-buffer',
    env: {
      KAFKA_BROKERS: testStack().brokers.join(','),
      REORDER_INPUT_TOPIC: input,
      REORDER_OUTPUT_TOPIC: output,
      REORDER_DLQ_TOPIC: dlq,
      REORDER_GROUP_ID: group,
      REORDER_MODE: 'event-time',
      REORDER_EVENT_TIME_SOURCE: 'header:t',
      REORDER_SLACK_MS: '0',
      REORDER_IDLE_FLUSH_MS: '500ms',
      REORDER_TICK_INTERVAL_MS: '100ms',
    },
  });
  t.after(() => service.kill('SIGKILL'));
  await service.ready();
  const released = await readTopic(output, { until: (r) => r.length >= 2, timeoutMs: 30_000 });
  assert.deepEqual(
    released.map((r) => [r.headers['convoy-event-time'], r.headers['convoy-late']]),
    [
      [String(now - 3_000), undefined],
      [String(now - 2_000), undefined],
    ],
    service.logTail(),
  );
  const [dead] = await readTopic(dlq, { until: (r) => r.length >= 1, timeoutMs: 20_000 });
  assert.deepEqual(
    [dead?.headers['convoy-error-code'], dead?.value, dead?.headers['convoy-error-omitted'], dead?.headers['convoy-error-omitted-bytes']],
    ['REORDER_EVENT_TIME_OUT_OF_RANGE', null, 'value', 'value=50000'],
  );
  assert.equal(await service.metric('convoy_reorder_buffer_dead_letters_total', { code: 'REORDER_EVENT_TIME_OUT_OF_RANGE' }), 1);
  assert.equal(await service.metric('convoy_reorder_buffer_dead_letters_trimmed_total'), 1);
  assert.equal((await readTopic(`${output}.late`, { idleMs: 1_000, timeoutMs: 5_000 })).length, 0);
});
