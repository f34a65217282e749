/**
 * The watermark generator against the real broker: watermarks land in every partition of every
 * configured topic, and the logical-clock counter never hands out a number twice across kill -9.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, ServiceProcess } from '../harness/processes.ts';
import { uniqueName, testStack } from '../harness/stack.ts';
import { createTopics, deleteTopics, readTopic } from '../harness/topics.ts';

async function next(port: number, count: number): Promise<{ first: number; last: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/next?count=${count}`, { method: 'POST' });
  assert.equal(response.status, 200);
  return (await response.json()) as { first: number; last: number };
}

test('generator (logical): watermarks in every partition; counter unique across kill -9', async (t) => {
  testStack();
  const a = uniqueName('wmg-a');
  const b = uniqueName('wmg-b');
  const counterTopic = uniqueName('wmg-counter');
  await createTopics([{ topic: a, partitions: 2 }, { topic: b, partitions: 1 }]);
  t.after(() => deleteTopics([a, b, counterTopic]));
  const counterPort = await freePort();
  const proc = await ServiceProcess.start({
    service: 'watermark-generator',
    env: {
      WM_TOPICS: `${a},${b}`,
      WM_MODE: 'logical',
      WM_INTERVAL_MS: '200',
      WM_LOGICAL_LAG_MS: '300',
      WM_COUNTER_TOPIC: counterTopic,
      WM_COUNTER_PORT: String(counterPort),
      WM_COUNTER_BLOCK_SIZE: '10',
    },
  });
  t.after(() => proc.stop());
  await proc.ready();

  const handed: number[] = [];
  const take = async (count: number) => {
    const { first, last } = await next(counterPort, count);
    assert.equal(last - first + 1, count);
    for (let n = first; n <= last; n++) handed.push(n);
  };
  for (let i = 0; i < 5; i++) await take(3);
  await take(25); // spans several blocks

  const records = await readTopic(a, {
    until: (rs) => [0, 1].every((p) => rs.some((r) => r.partition === p && Number(r.headers['convoy-seq']) >= 40)),
    timeoutMs: 15_000,
  });
  for (const p of [0, 1]) assert.ok(records.some((r) => r.partition === p && r.headers['convoy-kind'] === 'watermark'), `partition ${p} has watermarks`);
  const inB = await readTopic(b, { until: (rs) => rs.length > 0, timeoutMs: 10_000 });
  assert.equal(inB[0]?.headers['convoy-kind'], 'watermark');
  assert.ok(await proc.metric('convoy_watermark_generator_watermarks_written_total') > 0);

  for (let round = 0; round < 2; round++) {
    await take(4);
    await proc.restart(); // SIGKILL + respawn
    await take(2);
  }
  assert.equal(new Set(handed).size, handed.length, `no number twice: ${handed.join(',')}`);
  assert.deepEqual(handed, [...handed].sort((x, y) => x - y), 'strictly increasing');
  const current = (await (await fetch(`http://127.0.0.1:${counterPort}/current`)).json()) as { lastHandedOut: number; reservedUpTo: number };
  assert.equal(current.lastHandedOut, handed.at(-1));
  const bad = await fetch(`http://127.0.0.1:${counterPort}/next?count=0`, { method: 'POST' });
  assert.equal(bad.status, 400);
});
