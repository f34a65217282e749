/**
 * Avro and JSON Schema records round-trip through the real broker and the real registry
 * (Apicurio's Confluent-compatible API); a record that does not decode lands in a dead-letter
 * topic with its original bytes and headers plus the reason headers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CODEC_DECODE_FAILED, CODEC_UNKNOWN_SCHEMA, createCodec } from '@convoy/codecs';
import { createBatchedProducer, deadLetterRecord, deleteGroups, runPartitionProcessor, type PartitionHandler } from '@convoy/kafka';
import type { ConvoyError } from '@convoy/errors';
import { testStack, uniqueName } from '../harness/stack.ts';
import { defer, readTopic, testClients, testTopics, waitFor } from './kafka-helpers.ts';

const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

test('Avro and JSON Schema values round-trip through broker and registry; undecodable ones are dead-lettered', async (t) => {
  const registryUrl = testStack().registryUrl;
  assert.ok(registryUrl !== undefined, 'SCHEMA_REGISTRY_URL must be set for this test');
  const clients = testClients(t);
  const cluster = await clients.clusterInfo();
  t.diagnostic(`kafka cluster id ${cluster.clusterId} (${cluster.brokers} broker(s)); registry ${registryUrl}`);

  const codec = createCodec({ registryUrl });
  const topics = await testTopics(t, clients, { in: 1, dlq: 1 });
  const avroId = await codec.register(
    `${topics.in}-avro-value`,
    {
      type: 'record',
      name: 'Order',
      namespace: 'convoy.it',
      fields: [
        { name: 'customerId', type: 'string' },
        { name: 'amount', type: 'double' },
        { name: 'items', type: { type: 'array', items: 'string' } },
      ],
    },
    'avro',
  );
  const jsonId = await codec.register(
    `${topics.in}-json-value`,
    {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { customerId: { type: 'string' }, tier: { type: 'string', enum: ['same-day', 'next-day', 'weekly'] } },
      required: ['customerId', 'tier'],
    },
    'json',
  );
  t.diagnostic(`registered avro schema id ${avroId}, json schema id ${jsonId}`);

  const avroValue = { customerId: 'c-1', amount: 12.5, items: ['a', 'b'] };
  const jsonValue = { customerId: 'c-2', tier: 'next-day' };
  const badJson = Buffer.from('{"customerId": "c-3", tier', 'utf8');
  const unknownSchema = Buffer.from([0, 0x7f, 0xff, 0xff, 0x00, 1, 2, 3]);
  const producer = await createBatchedProducer(clients);
  defer(t, () => producer.disconnect());
  await producer.send([
    { topic: topics.in!, key: 'c-1', value: await codec.encode(avroId, avroValue), headers: { trace: Buffer.from('t-1') } },
    { topic: topics.in!, key: 'c-2', value: await codec.encode(jsonId, jsonValue), headers: { trace: Buffer.from('t-2') } },
    { topic: topics.in!, key: 'c-3', value: badJson, headers: { trace: Buffer.from('t-3'), 'convoy-seq': Buffer.from('junk') } },
    { topic: topics.in!, key: 'c-4', value: unknownSchema, headers: {} },
    { topic: topics.in!, key: 'c-5', value: await codec.encode(undefined, { plain: true }), headers: {} },
  ]);

  const decoded: { offset: number; value: unknown; schemaId: number | undefined }[] = [];
  const fatal: ConvoyError[] = [];
  const handler: PartitionHandler = {
    async onRecords(_p, records, out) {
      for (const record of records) {
        try {
          const result = await codec.decode(record.value ?? Buffer.alloc(0));
          decoded.push({ offset: record.offset, value: plain(result.value), schemaId: result.schemaId });
        } catch (error) {
          out.send(deadLetterRecord(record, error, 'codecs-it', topics.dlq!));
        }
      }
    },
  };
  const groupId = uniqueName('it-codecs');
  defer(t, () => deleteGroups(clients, [groupId]));
  const processor = await runPartitionProcessor({
    clients,
    groupId,
    topics: [topics.in!],
    transactionalIdPrefix: groupId,
    handler,
    onFatal: (e) => void fatal.push(e),
  });
  defer(t, () => processor.stop());
  await waitFor('the three decodable records', () => decoded.length === 3);

  assert.deepEqual(decoded, [
    { offset: 0, value: avroValue, schemaId: avroId },
    { offset: 1, value: jsonValue, schemaId: jsonId },
    { offset: 4, value: { plain: true }, schemaId: undefined },
  ]);

  const dead = await readTopic(clients, topics.dlq!, (rs) => rs.length >= 2);
  await processor.stop();
  assert.deepEqual(fatal, []);
  assert.equal(dead.length, 2);
  const [bad, unknown] = dead.sort((a, b) => String(a.key).localeCompare(String(b.key)));

  // Original bytes and headers, untouched.
  assert.deepEqual(bad!.key, Buffer.from('c-3'));
  assert.deepEqual(bad!.value, badJson);
  assert.deepEqual(bad!.headers['trace'], Buffer.from('t-3'));
  assert.deepEqual(bad!.headers['convoy-seq'], Buffer.from('junk'));
  const text = (name: string) => bad!.headers[name]?.toString('utf8');
  assert.equal(text('convoy-error-code'), CODEC_DECODE_FAILED);
  assert.match(text('convoy-error-message') ?? '', /^value is not JSON: /);
  assert.equal(text('convoy-error-stage'), 'codecs-it');
  assert.equal(text('convoy-error-retriable'), 'false');
  assert.equal(text('__connect.errors.topic'), topics.in);
  assert.equal(text('__connect.errors.partition'), '0');
  assert.equal(text('__connect.errors.offset'), '2');
  assert.equal(text('__connect.errors.exception.class.name'), 'ConvoyError');
  assert.equal(text('__connect.errors.exception.message'), `${CODEC_DECODE_FAILED}: ${text('convoy-error-message')}`);
  assert.equal(text('kafka_dlt-original-topic'), topics.in);
  assert.equal(bad!.headers['kafka_dlt-original-partition']?.readInt32BE(0), 0);
  assert.equal(bad!.headers['kafka_dlt-original-offset']?.readBigInt64BE(0), 2n);
  assert.ok(Number(bad!.headers['kafka_dlt-original-timestamp']?.readBigInt64BE(0)) > Date.now() - 60_000);
  assert.equal(text('kafka_dlt-exception-fqcn'), 'ConvoyError');

  assert.deepEqual(unknown!.value, unknownSchema);
  assert.equal(unknown!.headers['convoy-error-code']?.toString(), CODEC_UNKNOWN_SCHEMA);
  assert.equal(unknown!.headers['__connect.errors.offset']?.toString(), '3');
});
