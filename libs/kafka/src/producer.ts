import { CompressionTypes, Partitioners } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { RETRY, type KafkaClients } from './client.ts';
import { classifyKafkaError } from './errors.ts';
import { topicMessages } from './records.ts';
import type { OutgoingRecord } from './types.ts';

export type Compression = 'none' | 'gzip';

export function compressionType(compression: Compression): CompressionTypes {
  return compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}

/**
 * Shared by the batched and the transactional producers: Java-compatible murmur2 partitioner
 * (stated, so kafkajs stops warning about its v2 default switch), one in-flight request, and
 * kafkajs's idempotent default of unlimited retries (backoff capped at 30 s): capping them is what
 * kafkajs warns "may invalidate EoS guarantees". So during a broker outage a send waits; it does not fail.
 */
export function idempotentProducerConfig() {
  return {
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { ...RETRY, retries: Number.MAX_SAFE_INTEGER },
  };
}

export interface BatchedProducerOptions {
  compression?: Compression;
}

/**
 * An idempotent producer (acks=all). `send(records)` writes the whole array in one request per
 * broker: kafkajs has no client-side batching, so callers batch by passing arrays. Per partition
 * the records land in array order, without duplicates from internal retries.
 * Errors are `ConvoyError`s from `classifyKafkaError`.
 */
export interface BatchedProducer {
  send(records: readonly OutgoingRecord[]): Promise<void>;
  /** Idempotent. */
  disconnect(): Promise<void>;
}

/**
 * maxInFlightRequests is set to 1: kafkajs's idempotent sequence bookkeeping is not safe with
 * several in-flight requests per connection (it needs ≤ 5 at most, and kafkajs defaults to
 * unlimited); with whole arrays per send, one in flight costs little. Retries stay at kafkajs's
 * idempotent default (unlimited, 30 s backoff cap): capping them warns that EOS may break.
 */
export async function createBatchedProducer(clients: KafkaClients, options: BatchedProducerOptions = {}): Promise<BatchedProducer> {
  const producer: Producer = clients.kafkajs.producer(idempotentProducerConfig());
  try {
    await producer.connect();
  } catch (error) {
    throw classifyKafkaError(error);
  }
  const compression = compressionType(options.compression ?? 'none');
  let disconnected: Promise<void> | undefined;
  return {
    async send(records) {
      if (records.length === 0) return;
      try {
        await producer.sendBatch({ acks: -1, compression, topicMessages: topicMessages(records) });
      } catch (error) {
        throw classifyKafkaError(error);
      }
    },
    disconnect() {
      disconnected ??= producer.disconnect();
      return disconnected;
    },
  };
}
