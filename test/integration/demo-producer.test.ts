// The demo producer as a process on the real broker: traffic at a rate until SIGTERM (graceful,
// every counted event is on the topic), and a fixed count of registry-framed Avro orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCodec } from '@convoy/codecs';
import { ServiceProcess } from '../harness/processes.ts';
import { testStack, uniqueName } from '../harness/stack.ts';
import { createTopics, deleteTopics, testKafka } from '../harness/topics.ts';

interface Read {
  partition: number;
  key: string | null;
  value: Buffer | null;
  timestamp: number;
}

/** Every record of `topic` (record timestamps included), once `count` are read or after 60 s. */
async function readAll(topic: string, count: number): Promise<Read[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('demo-reader') });
  const out: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.push({ partition, key: message.key === null ? null : message.key.toString(), value: message.value, timestamp: Number(message.timestamp) });
      },
    });
    const deadline = Date.now() + 60_000;
    while (out.length < count && Date.now() < deadline) await sleep(100);
    await sleep(500); // anything beyond `count` would show up here
  } finally {
    await consumer.disconnect();
  }
  return out;
}

async function exited(p: ServiceProcess, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (p.running && Date.now() < deadline) await sleep(100);
  return p.stop();
}

test('runs at a rate until SIGTERM; what it counted is exactly what is on the topic, keyed and timestamped by event', async (t) => {
  const topic = uniqueName('demo.input');
  await createTopics([{ topic, partitions: 3 }]);
  t.after(() => deleteTopics([topic]));
  const producer = await ServiceProcess.start({
    service: 'demo-producer',
    env: { DEMO_TOPIC: topic, DEMO_RATE: '400', DEMO_SEED: '21', DEMO_MALFORMED_RATIO: '0.05', DEMO_LATE_RATIO: '0.05', DEMO_LATE_BY_MS: '120000' },
  });
  t.after(() => producer.kill('SIGKILL'));
  await producer.ready();
  while ((await producer.metric('convoy_demo_producer_events_total')) < 400) await sleep(200);
  const counts = { malformed: 0 };
  // Graceful stop: the loop stops between batches, so the last scrape may trail; read after exit.
  assert.equal(await producer.stop(), 0, producer.logTail());
  const records = await readAll(topic, 400);
  assert.ok(records.length >= 400, String(records.length));
  for (const r of records) {
    let order: { customerId?: unknown; eventTime?: unknown } | undefined;
    try {
      order = JSON.parse(r.value?.toString() ?? '') as typeof order;
    } catch {
      order = undefined;
    }
    if (r.key === null || r.key === '' || order?.customerId === undefined) {
      counts.malformed++;
      continue;
    }
    assert.equal(order.customerId, r.key);
    assert.equal(order.eventTime, r.timestamp, 'record timestamp = event time');
  }
  const stopped = producer.logs().find((l) => l.includes('"traffic stopped"'));
  assert.ok(stopped !== undefined, producer.logTail());
  const { sent, byKind } = JSON.parse(stopped) as { sent: number; byKind: Record<string, number> };
  assert.equal(records.length, sent);
  assert.equal(counts.malformed, byKind['malformed']);
  assert.ok(counts.malformed > 0);
  const logged = producer.logs().find((l) => l.includes('"demo producer started"'));
  assert.match(logged ?? '', /"seed":21/);
});

test('DEMO_COUNT with Avro: exactly that many registry-framed orders, then exit 0', async (t) => {
  const registryUrl = testStack().registryUrl;
  if (registryUrl === undefined) return t.skip('no schema registry');
  const topic = uniqueName('demo.avro');
  await createTopics([{ topic, partitions: 2 }]);
  t.after(() => deleteTopics([topic]));
  const producer = await ServiceProcess.start({
    service: 'demo-producer',
    env: { DEMO_TOPIC: topic, DEMO_COUNT: '50', DEMO_RATE: '0', DEMO_FORMAT: 'avro', DEMO_MALFORMED_RATIO: '0', DEMO_SEED: '4', SCHEMA_REGISTRY_URL: registryUrl },
  });
  t.after(() => producer.kill('SIGKILL'));
  assert.equal(await exited(producer, 60_000), 0, producer.logTail());
  const records = await readAll(topic, 50);
  assert.equal(records.length, 50);
  const codec = createCodec({ registryUrl });
  const ids = new Set<string>();
  for (const r of records) {
    assert.equal(r.value?.[0], 0, 'Confluent framing: magic byte 0');
    const { value, schemaId } = await codec.decode(r.value!);
    const order = value as { orderId: string; customerId: string; eventTime: number; items: unknown[] };
    assert.equal(typeof schemaId, 'number');
    assert.equal(order.customerId, r.key);
    assert.equal(Number(order.eventTime), r.timestamp);
    ids.add(order.orderId);
  }
  assert.equal(ids.size, 50);
  assert.ok(ids.has('order-4-0') && ids.has('order-4-49'));
});
