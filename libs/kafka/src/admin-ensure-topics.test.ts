import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { createLogger } from '@convoy/logging';
import { ensureTopics } from './admin.ts';
import type { KafkaClients } from './client.ts';

const { KafkaJSProtocolError } = kafkajs;

/** An admin whose createTopics creates the topic but, like a freshly started broker, fails waitForLeaders. */
function freshBrokerClients(createError: Error): { clients: KafkaClients; created: string[] } {
  const created: string[] = [];
  let metadataCalls = 0;
  const admin = {
    listTopics: async () => [],
    describeCluster: async () => ({ brokers: [{ nodeId: 1 }], controller: 1, clusterId: 'c' }),
    createTopics: async ({ topics }: { topics: { topic: string }[] }) => {
      created.push(...topics.map((t) => t.topic));
      throw createError;
    },
    // The topic shows up in the metadata on the second look.
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      metadataCalls++;
      if (metadataCalls < 2) throw new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'not hosted' } as never);
      return { topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 1 }] })) };
    },
  };
  const clients = { admin: async () => admin, logger: createLogger({ name: 'test', level: 'silent' }) } as unknown as KafkaClients;
  return { clients, created };
}

test('ensureTopics: a topic created but not yet in the metadata (UNKNOWN_TOPIC_OR_PARTITION from waitForLeaders) is waited for, not fatal', async () => {
  const unknown = new KafkaJSProtocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'This server does not host this topic-partition' } as never);
  const { clients, created } = freshBrokerClients(unknown);
  const counts = await ensureTopics(clients, [{ topic: 'fresh', partitions: 2 }]);
  assert.deepEqual(created, ['fresh']);
  assert.deepEqual([...counts], [['fresh', 2]]);
});

test('ensureTopics: other creation errors still fail, classified', async () => {
  const denied = new KafkaJSProtocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'denied' } as never);
  const { clients } = freshBrokerClients(denied);
  await assert.rejects(ensureTopics(clients, [{ topic: 'fresh', partitions: 2 }]), { code: 'KAFKA_TOPIC_AUTHORIZATION_FAILED' });
});
