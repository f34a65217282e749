/**
 * The transactional partition processor against a real broker: exactly-once output with committed
 * offsets, a handler-held commit offset surviving a restart, and aborted output never visible to
 * read_committed readers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvoyError } from '@convoy/errors';
import {
  createBatchedProducer,
  deleteGroups,
  fetchCommittedOffsets,
  runPartitionProcessor,
  type ConvoyRecord,
  type PartitionHandler,
  type TopicPartition,
} from '@convoy/kafka';
import { uniqueName } from '../harness/stack.ts';
import { defer, readTopic, testClients, testTopics, waitFor } from './kafka-helpers.ts';

const valueOf = (r: ConvoyRecord) => r.value?.toString('utf8') ?? '';

test('records in → transformed records out exactly once, offsets committed in the same transactions', async (t) => {
  const clients = testClients(t);
  const topics = await testTopics(t, clients, { in: 2, out: 2 });
  const groupId = uniqueName('it-proc-a');
  defer(t, () => deleteGroups(clients, [groupId]));

  const producer = await createBatchedProducer(clients);
  defer(t, () => producer.disconnect());
  const inputs = Array.from({ length: 200 }, (_, i) => ({ topic: topics.in!, key: `customer-${i % 17}`, value: `event-${i}` }));
  await producer.send(inputs);

  const fatal: ConvoyError[] = [];
  const handler: PartitionHandler = {
    onRecords(p, records, out) {
      for (const r of records) out.send({ topic: topics.out!, partition: p.partition, key: r.key, value: valueOf(r).toUpperCase(), headers: r.headers });
    },
  };
  const processor = await runPartitionProcessor({
    clients,
    groupId,
    topics: [topics.in!],
    transactionalIdPrefix: groupId,
    handler,
    onFatal: (error) => void fatal.push(error),
    maxBatchRecords: 30, // several transactions per fetched batch
  });
  defer(t, () => processor.stop());

  await waitFor('all input offsets committed', async () => {
    const committed = await fetchCommittedOffsets(clients, groupId, topics.in!);
    return [...committed.values()].reduce<number>((sum, o) => sum + (o ?? 0), 0) === 200;
  });
  await processor.stop();
  await processor.stop(); // idempotent

  const output = await readTopic(clients, topics.out!, (rs) => rs.length >= 200, { settleMs: 500 });
  assert.equal(output.length, 200);
  assert.deepEqual(output.map(valueOf).sort(), inputs.map((r) => r.value.toUpperCase()).sort());
  assert.deepEqual(fatal, []);
});

test('a handler-held commit offset: after a restart only the uncommitted tail is re-delivered', async (t) => {
  const clients = testClients(t);
  const topics = await testTopics(t, clients, { in: 1, out: 1 });
  const groupId = uniqueName('it-proc-b');
  defer(t, () => deleteGroups(clients, [groupId]));
  const producer = await createBatchedProducer(clients);
  defer(t, () => producer.disconnect());
  await producer.send(Array.from({ length: 80 }, (_, i) => ({ topic: topics.in!, key: null, value: `v${i}` })));

  // Like a merger: releases offsets < 50, holds the rest, commits only up to what it released.
  const HOLD_FROM = 50;
  const makeHandler = (seen: number[], assigned: TopicPartition[]): PartitionHandler => ({
    onAssigned: (p) => void assigned.push(p),
    onRecords(p, records, out) {
      for (const r of records) {
        seen.push(r.offset);
        if (r.offset < HOLD_FROM) out.send({ topic: topics.out!, partition: 0, key: null, value: valueOf(r) });
      }
      out.commitUpTo(Math.min(records[records.length - 1]!.offset + 1, HOLD_FROM));
    },
  });
  const fatal: ConvoyError[] = [];
  const firstSeen: number[] = [];
  const first = await runPartitionProcessor({
    clients,
    groupId,
    topics: [topics.in!],
    transactionalIdPrefix: groupId,
    handler: makeHandler(firstSeen, []),
    commitMode: 'handler',
    onFatal: (e) => void fatal.push(e),
  });
  await waitFor('first instance saw every record', () => firstSeen.length === 80);
  await waitFor('commit reached 50', async () => (await fetchCommittedOffsets(clients, groupId, topics.in!)).get(0) === HOLD_FROM);
  await first.stop();
  assert.deepEqual(firstSeen, Array.from({ length: 80 }, (_, i) => i));
  assert.equal((await fetchCommittedOffsets(clients, groupId, topics.in!)).get(0), HOLD_FROM, 'commit never ran ahead of the held records');

  const secondSeen: number[] = [];
  const assigned: TopicPartition[] = [];
  const second = await runPartitionProcessor({
    clients,
    groupId,
    topics: [topics.in!],
    transactionalIdPrefix: groupId,
    handler: makeHandler(secondSeen, assigned),
    commitMode: 'handler',
    onFatal: (e) => void fatal.push(e),
  });
  defer(t, () => second.stop());
  await waitFor('second instance saw the tail', () => secondSeen.length >= 30);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await second.stop();
  assert.deepEqual(assigned, [{ topic: topics.in!, partition: 0 }]);
  assert.deepEqual(secondSeen, Array.from({ length: 30 }, (_, i) => HOLD_FROM + i), 'exactly the uncommitted tail, nothing committed');
  const output = await readTopic(clients, topics.out!, (rs) => rs.length >= HOLD_FROM);
  assert.deepEqual(output.map(valueOf), Array.from({ length: HOLD_FROM }, (_, i) => `v${i}`), 'released records exactly once, in order');
  assert.deepEqual(fatal, []);
});

test('an aborted transaction leaves nothing visible to read_committed, and the commit stays put', async (t) => {
  const clients = testClients(t);
  const topics = await testTopics(t, clients, { in: 1, out: 1, side: 1 });
  const groupId = uniqueName('it-proc-c');
  defer(t, () => deleteGroups(clients, [groupId]));
  const producer = await createBatchedProducer(clients);
  defer(t, () => producer.disconnect());

  const fatal: { error: ConvoyError; partition: TopicPartition | undefined }[] = [];
  const handler: PartitionHandler = {
    onRecords(p, records, out) {
      for (const r of records) {
        out.send({ topic: topics.out!, partition: 0, key: null, value: `out-${valueOf(r)}` });
        // The broker rejects a 2 MiB record (message.max.bytes ≈ 1 MiB) after the records above were
        // appended to the log inside the transaction: MESSAGE_TOO_LARGE, not retriable → abort.
        if (valueOf(r) === 'boom') out.send({ topic: topics.side!, partition: 0, key: null, value: Buffer.alloc(2 * 1024 * 1024, 1) });
      }
    },
  };
  const processor = await runPartitionProcessor({
    clients,
    groupId,
    topics: [topics.in!],
    transactionalIdPrefix: groupId,
    handler,
    maxTransactionAttempts: 2,
    onFatal: (error, partition) => void fatal.push({ error, partition }),
  });
  defer(t, () => processor.stop());

  await producer.send(['a', 'b', 'c'].map((value) => ({ topic: topics.in!, key: null, value })));
  await waitFor('first batch committed', async () => (await fetchCommittedOffsets(clients, groupId, topics.in!)).get(0) === 3);
  await producer.send(['d', 'boom', 'e'].map((value) => ({ topic: topics.in!, key: null, value })));
  await waitFor('the failing partition is reported', () => fatal.length === 1);
  await processor.stop();

  assert.deepEqual(fatal[0]!.partition, { topic: topics.in!, partition: 0 });
  t.diagnostic(`fatal: ${fatal[0]!.error.code} retriable=${fatal[0]!.error.retriable}: ${fatal[0]!.error.message}`);
  assert.equal(fatal[0]!.error.retriable, false);
  assert.equal((await fetchCommittedOffsets(clients, groupId, topics.in!)).get(0), 3, 'offsets of the aborted unit are not committed');

  const committed = await readTopic(clients, topics.out!, (rs) => rs.length >= 3, { settleMs: 800 });
  assert.deepEqual(committed.map(valueOf), ['out-a', 'out-b', 'out-c']);
  const uncommitted = await readTopic(clients, topics.out!, (rs) => rs.length >= 5, { isolation: 'read_uncommitted' });
  assert.ok(
    uncommitted.map(valueOf).includes('out-boom'),
    `the aborted records did reach the log (read_uncommitted sees them): ${uncommitted.map(valueOf).join(',')}`,
  );
});
