/**
 * The Testcontainers path end to end: the global setup started Kafka and the registry from the
 * images named in test/harness/containers.ts (here: the local equivalents built by
 * `scripts/engine.sh images`), configured through the apache/kafka env interface. Run with
 * `pnpm test:containers`; meaningless (and so failing) against an externally provided stack.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { KAFKA_ENV } from '../harness/containers.ts';
import { testStack, uniqueName } from '../harness/stack.ts';
import { createTopics, deleteTopics, produce, readTopic, withAdmin } from '../harness/topics.ts';

test('the global setup took the Testcontainers path', () => {
  assert.equal(process.env['CONVOY_TEST_STACK_ORIGIN'], 'testcontainers');
});

test('the broker is the container configured from KAFKA_* env: its cluster id and the settings it was given', async () => {
  const { clusterId, brokers, settings } = await withAdmin(async (admin) => {
    const cluster = await admin.describeCluster();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.BROKER,
          name: String(cluster.brokers[0]!.nodeId),
          configNames: ['auto.create.topics.enable', 'offsets.topic.num.partitions', 'group.initial.rebalance.delay.ms'],
        },
      ],
    });
    const entries = described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue] as const);
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, settings: Object.fromEntries(entries) };
  });
  assert.equal(clusterId, KAFKA_ENV['CLUSTER_ID']);
  assert.equal(brokers, 1);
  assert.deepEqual(settings, {
    'auto.create.topics.enable': 'false',
    'group.initial.rebalance.delay.ms': '0',
    'offsets.topic.num.partitions': '10',
  });
});

test('records produced through the mapped port are read back in order (read_committed)', async (t) => {
  const topic = uniqueName('containers-smoke');
  await createTopics([{ topic, partitions: 1 }]);
  t.after(() => deleteTopics([topic]));
  await produce(topic, ['a', 'b', 'c'].map((value, i) => ({ key: `k${i}`, value })));
  const records = await readTopic(topic, { until: (r) => r.length >= 3 });
  assert.deepEqual(
    records.map((r) => [r.partition, r.offset, r.key, r.value?.toString()]),
    [
      [0, 0, 'k0', 'a'],
      [0, 1, 'k1', 'b'],
      [0, 2, 'k2', 'c'],
    ],
  );
});

test('the registry container serves the Confluent-compatible API: a schema registers and reads back by id', async () => {
  const registryUrl = testStack().registryUrl;
  assert.ok(registryUrl !== undefined);
  const subject = `${uniqueName('containers-smoke')}-value`;
  const schema = JSON.stringify({ type: 'record', name: 'Ping', namespace: 'convoy.smoke', fields: [{ name: 'n', type: 'long' }] });
  const json = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

  const registered = await fetch(`${registryUrl}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ schema }),
  });
  assert.equal(registered.status, 200);
  const { id } = (await registered.json()) as { id: number };
  assert.ok(Number.isInteger(id) && id > 0, `schema id ${id}`);

  const byId = (await (await fetch(`${registryUrl}/schemas/ids/${id}`)).json()) as { schema: string };
  assert.deepEqual(JSON.parse(byId.schema), JSON.parse(schema));
  const versions = (await (await fetch(`${registryUrl}/subjects/${subject}/versions`)).json()) as number[];
  assert.deepEqual(versions, [1]);

  const info = (await (await fetch(new URL('/apis/registry/v3/system/info', registryUrl))).json()) as { version: string };
  assert.equal(info.version, '3.0.9');
});
