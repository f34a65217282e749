import type { Consumer } from 'kafkajs';
import type { Logger } from '@convoy/logging';
import type { KafkaClients } from './client.ts';
import { classifyKafkaError } from './errors.ts';
import { fromKafkaMessage } from './records.ts';
import type { ConvoyRecord, TopicPartition } from './types.ts';

export interface ConsumerLoopOptions {
  clients: KafkaClients;
  groupId: string;
  topics: readonly string[];
  /** Called per fetched batch of one partition; the batch's offsets are committed after it resolves. */
  onBatch: (partition: TopicPartition, records: readonly ConvoyRecord[]) => void | Promise<void>;
  /** Default true. */
  fromBeginning?: boolean;
  /** Default 'read_committed': records of aborted or open transactions are never seen. */
  isolation?: 'read_committed' | 'read_uncommitted';
  maxWaitMs?: number;
  logger?: Logger;
}

/** A running consumer; `stop()` lets the batch in flight finish, commits, leaves the group. Idempotent. */
export interface ConsumerLoop {
  stop(): Promise<void>;
}

/**
 * At-least-once consumption without output transactions (readers, tools, tests): each batch is
 * handed to `onBatch` and its offsets are committed once it resolves. A throwing `onBatch` makes
 * kafkajs re-deliver the batch (it restarts the consumer on retriable errors).
 */
export async function runConsumer(options: ConsumerLoopOptions): Promise<ConsumerLoop> {
  const consumer: Consumer = options.clients.kafkajs.consumer({
    groupId: options.groupId,
    readUncommitted: options.isolation === 'read_uncommitted',
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitMs ?? 100,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch }) => {
        const records = batch.messages.map((m) => fromKafkaMessage(batch.topic, batch.partition, m));
        await options.onBatch({ topic: batch.topic, partition: batch.partition }, records);
      },
    });
  } catch (error) {
    await consumer.disconnect().catch(() => undefined);
    throw classifyKafkaError(error);
  }
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= consumer.disconnect();
      return stopped;
    },
  };
}
