import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingRecord } from '@convoy/kafka';
import { OrderGenerator } from './generator.ts';
import { runTraffic } from './traffic.ts';

/** A fake clock that only moves when the loop sleeps. */
function fakeTime(start: number) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

test('count and rate: 50 events at 200/s leave in bursts of 20 (the burst), waiting 100 ms, then 50 ms for the last 10', async () => {
  const time = fakeTime(1_000_000);
  const batches: OutgoingRecord[][] = [];
  const sent = await runTraffic(
    { topic: 't', rate: 200, count: 50, maxBatch: 1_000 },
    {
      generator: new OrderGenerator({ seed: 5, malformedRatio: 0.2 }),
      encode: (order) => Buffer.from(JSON.stringify(order)),
      send: async (records) => void batches.push([...records]),
      now: time.now,
      sleep: time.sleep,
    },
    new AbortController().signal,
  );
  assert.equal(sent, 50);
  assert.deepEqual(batches.map((b) => b.length), [20, 20, 10]);
  assert.deepEqual(time.sleeps, [100, 50]);
  const first = batches[0]![0]!;
  assert.equal(first.topic, 't');
  assert.equal(typeof first.timestamp, 'number');
  for (const r of batches.flat()) {
    if (r.key !== null && r.key !== '') assert.equal(JSON.parse(String(r.value)).customerId, r.key);
  }
});

test('an abort stops the loop after the batch in flight', async () => {
  const time = fakeTime(0);
  const controller = new AbortController();
  let sends = 0;
  const sent = await runTraffic(
    { topic: 't', rate: 0, maxBatch: 7 },
    {
      generator: new OrderGenerator({ seed: 1 }),
      encode: (order) => Buffer.from(JSON.stringify(order)),
      send: async () => {
        if (++sends === 3) controller.abort();
      },
      now: time.now,
      sleep: time.sleep,
    },
    controller.signal,
  );
  assert.equal(sent, 21);
});
