// readPartitionTail: what a stage reads back after a restart is exactly the committed tail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { readPartitionTail } from '@convoy/kafka';
import { testStack, uniqueName } from '../harness/stack.ts';
import { testClients, testTopics } from './kafka-helpers.ts';

test('readPartitionTail walks back window by window over transaction markers and never sees aborted records', async (t) => {
  const clients = testClients(t);
  const out = (await testTopics(t, clients, { out: 1 })).out!;
  const kafka = new Kafka({ clientId: uniqueName('tail-writer'), brokers: testStack().brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: uniqueName('tail-writer'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const write = async (values: string[], commit: boolean) => {
    const tx = await producer.transaction();
    await tx.send({ topic: out, messages: values.map((value) => ({ partition: 0, key: null, value })) });
    await (commit ? tx.commit() : tx.abort());
  };
  // offsets: 0-2 a0 a1 a2, 3 marker, 4-5 b0 b1, 6 marker, 7-8 x0 x1 (aborted), 9 marker, 10 c0, 11 marker
  await write(['a0', 'a1', 'a2'], true);
  await write(['b0', 'b1'], true);
  await write(['x0', 'x1'], false);
  await write(['c0'], true);

  const last = await readPartitionTail(clients, { topic: out, partition: 0, window: 2 });
  assert.deepEqual(last.map((r) => [r.offset, r.value?.toString()]), [[10, 'c0']], 'offsets [10, 12): c0 and its commit marker');

  const values = (records: readonly { value: Buffer | null }[]) => records.map((r) => r.value?.toString());
  const untilB = await readPartitionTail(clients, {
    topic: out,
    partition: 0,
    window: 2,
    enough: (window) => window.some((r) => r.value?.toString().startsWith('b') === true),
  });
  assert.ok(values(untilB).includes('c0'));
  assert.ok(values(untilB).includes('b1'));
  assert.ok(!values(untilB).some((v) => v?.startsWith('x')), 'aborted records are never read');
  assert.deepEqual(values(untilB), [...values(untilB)].sort(), 'offset order');

  const all = await readPartitionTail(clients, { topic: out, partition: 0, window: 3, enough: () => false });
  assert.deepEqual(values(all), ['a0', 'a1', 'a2', 'b0', 'b1', 'c0']);
  assert.deepEqual(await readPartitionTail(clients, { topic: (await testTopics(t, clients, { empty: 1 })).empty!, partition: 0 }), []);
});
