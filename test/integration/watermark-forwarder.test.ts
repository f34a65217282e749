/**
 * The watermark forwarder against the real broker: two input topics, one advancing slowly and one
 * with an idle (empty, caught-up) partition. The output watermark never passes the slowest non-idle
 * input, the idle partition does not stall it, data is forwarded, bad records are dead-lettered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceProcess } from '../harness/processes.ts';
import { uniqueName, testStack } from '../harness/stack.ts';
import { createTopics, deleteGroups, deleteTopics, produce, readTopic, type ReadRecord } from '../harness/topics.ts';

const wm = (partition: number, time: number) => ({ partition, key: null, value: null, headers: { 'convoy-kind': 'watermark', 'convoy-event-time': String(time) } });
const outWatermarks = (records: readonly ReadRecord[]) =>
  records.filter((r) => r.headers['convoy-kind'] === 'watermark').map((r) => ({ partition: r.partition, wm: Number(r.headers['convoy-event-time']) }));

/**
 * Runs `read` while re-sending the given watermarks into fast/0 and slow/0 every 700 ms, as a
 * watermark generator would: neither input is then ever caught up for WMF_CAUGHT_UP_AFTER_MS, and
 * only slow/1, which gets nothing, leaves the minimum. Without it all inputs go quiet together and
 * which leaves first is a matter of timing.
 */
async function whileBeating<T>(fast: string, fastWm: number, slow: string, slowWm: number, read: () => Promise<T>): Promise<T> {
  let sending = Promise.resolve();
  const beat = setInterval(() => {
    sending = sending.then(() => produce(fast, [wm(0, fastWm)])).then(() => produce(slow, [wm(0, slowWm)])).catch(() => undefined);
  }, 700);
  try {
    return await read();
  } finally {
    clearInterval(beat);
    await sending;
  }
}

test('forwarder: min over non-idle inputs, idle partition excluded, data forwarded, bad records dead-lettered', async (t) => {
  testStack();
  const fast = uniqueName('wmf-fast');
  const slow = uniqueName('wmf-slow'); // partition 0 advances slowly, partition 1 stays empty (idle)
  const out = uniqueName('wmf-out');
  const dlq = uniqueName('wmf-dlq');
  const group = uniqueName('wmf-group');
  await createTopics([{ topic: fast, partitions: 1 }, { topic: slow, partitions: 2 }]);
  t.after(async () => {
    await deleteTopics([fast, slow, out, `${out}.wmf-state`, dlq]);
    await deleteGroups([group]);
  });
  const proc = await ServiceProcess.start({
    service: 'watermark-forwarder',
    env: {
      WMF_INPUT_TOPICS: `${fast},${slow}`,
      WMF_OUTPUT_TOPIC: out,
      WMF_OUTPUT_PARTITIONS: '2',
      WMF_DLQ_TOPIC: dlq,
      WMF_GROUP_ID: group,
      WMF_TICK_INTERVAL_MS: '100',
      WMF_END_OFFSETS_INTERVAL_MS: '300',
      WMF_CAUGHT_UP_AFTER_MS: '5000',
    },
  });
  t.after(() => proc.stop());
  await proc.ready();

  // fast first, slow last: slow/0 is the last to go quiet, so it stays in the minimum while we look.
  // slow/1 never gets a record: after 5 s at its end offset (0) it leaves the minimum.
  await produce(fast, [{ partition: 0, key: 'c1', value: 'e1' }, wm(0, 1_000), wm(0, 2_000), wm(0, 3_000)]);
  await produce(fast, [{ partition: 0, key: 'bad', value: 'x', headers: { 'convoy-kind': 'nonsense' } }]);
  await produce(slow, [{ partition: 0, key: 'c2', value: 'e2' }, wm(0, 100), wm(0, 200)]);
  let records = await whileBeating(fast, 3_000, slow, 200, () =>
    readTopic(out, { until: (rs) => outWatermarks(rs).filter((w) => w.wm === 200).length >= 2, timeoutMs: 25_000 }),
  );
  let marks = outWatermarks(records);
  assert.ok(marks.length >= 2, `watermarks on the output:\n${proc.logTail(5)}\n${(await proc.metrics()).split("\n").filter((l) => l.startsWith("convoy_watermark")).join("\n")}`);
  assert.ok(marks.every((w) => w.wm <= 200), `never above the slowest non-idle input (200): ${JSON.stringify(marks)}`);
  assert.deepEqual(new Set(marks.filter((w) => w.wm === 200).map((w) => w.partition)), new Set([0, 1]), 'into every output partition');
  assert.deepEqual(records.filter((r) => r.headers['convoy-kind'] === undefined).map((r) => r.key).sort(), ['c1', 'c2']);

  // Both advance: the output keeps advancing although slow/1 never spoke (it is caught up).
  await produce(fast, [wm(0, 4_000)]);
  await produce(slow, [wm(0, 5_000)]);
  records = await whileBeating(fast, 4_000, slow, 5_000, () =>
    readTopic(out, { until: (rs) => outWatermarks(rs).some((w) => w.wm >= 4_000), timeoutMs: 20_000 }),
  );
  marks = outWatermarks(records);
  assert.ok(marks.some((w) => w.wm >= 4_000), `advanced past the idle partition: ${JSON.stringify(marks)}`);
  assert.ok(marks.every((w) => w.wm <= 5_000));
  for (const p of [0, 1]) {
    const seq = marks.filter((w) => w.partition === p).map((w) => w.wm);
    assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition ${p} never goes backwards`);
  }

  const dead = await readTopic(dlq, { until: (rs) => rs.length >= 1, timeoutMs: 15_000 });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]?.headers['convoy-error-code'], 'ENVELOPE_MALFORMED');
  assert.equal(dead[0]?.headers['convoy-error-stage'], 'watermark-forwarder');
  assert.equal(dead[0]?.key, 'bad');

  // kill -9: the restarted forwarder re-reads its floor and never writes a lower watermark.
  await proc.restart();
  // Fresh tracker: 3500 < the recovered floor must not be written; 6000 must.
  await produce(fast, [wm(0, 3_500)]);
  await produce(slow, [wm(0, 3_500)]);
  await produce(fast, [wm(0, 6_000)]);
  await produce(slow, [wm(0, 6_000)]);
  records = await whileBeating(fast, 6_000, slow, 6_000, () =>
    readTopic(out, { until: (rs) => outWatermarks(rs).some((w) => w.wm === 6_000), timeoutMs: 30_000 }),
  );
  marks = outWatermarks(records);
  assert.ok(marks.some((w) => w.wm === 6_000), `after restart: ${JSON.stringify(marks)}\n${proc.logTail()}`);
  for (const p of [0, 1]) {
    const seq = marks.filter((w) => w.partition === p).map((w) => w.wm);
    assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition ${p} never goes backwards across the restart`);
  }
  assert.deepEqual(records.filter((r) => r.headers['convoy-kind'] === undefined).map((r) => r.key).sort(), ['c1', 'c2'], 'nothing duplicated');
});
