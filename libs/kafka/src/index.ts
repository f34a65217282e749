export type { ConvoyRecord, OutgoingRecord, RecordHeaders, TopicPartition } from './types.ts';
export { partitionId } from './types.ts';
export {
  classifyKafkaError,
  KAFKA_HANDLER_FAILED,
  KAFKA_TLS_FILE_UNREADABLE,
  KAFKA_TOPIC_NOT_READY,
  KAFKA_TOPIC_TOO_FEW_PARTITIONS,
} from './errors.ts';
export type { ClusterInfo, KafkaClientOptions, KafkaConnection } from './client.ts';
export { authenticationFailure, createKafkaClients, KAFKA_AUTHENTICATION_FAILED, KafkaClients, kafkaConfigFrom, RETRY } from './client.ts';
export type { EnsureTopicsOptions, TopicSpec, WaitForTopicOptions } from './admin.ts';
export { deleteGroups, deleteTopics, ensureTopics, fetchCommittedOffsets, fetchEndOffsets, fetchMaxMessageBytes, waitForTopic } from './admin.ts';
export type { BatchedProducer, BatchedProducerOptions, Compression } from './producer.ts';
export { createBatchedProducer } from './producer.ts';
export type { ConsumerLoop, ConsumerLoopOptions } from './consumer.ts';
export { runConsumer } from './consumer.ts';
export type { CommitMode, PartitionHandler, PartitionProcessor, PartitionProcessorOptions, ProcessorOutput } from './processor.ts';
export { runPartitionProcessor } from './processor.ts';
export type { ConvoyKind, Envelope } from './envelope.ts';
export { CONVOY_HEADER_PREFIX, CONVOY_KINDS, decodeEnvelope, encodeEnvelope, ENVELOPE_MALFORMED, HEADER, stripConvoyHeaders, withEnvelope } from './envelope.ts';
export { deadLetterRecord, DLQ_HEADER, MAX_ERROR_MESSAGE_BYTES } from './dead-letter.ts';
export { fitRecord, OMITTED_BYTES_HEADER, OMITTED_HEADER, recordBatchBytes } from './record-size.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export type { ReadTailOptions } from './partition-reader.ts';
export { KAFKA_READ_TIMEOUT, readPartitionTail } from './partition-reader.ts';
export type { KafkaRetryOptions } from './retry.ts';
export { kafkaRetryBackoffMs, withKafkaRetry } from './retry.ts';
export type { AttributeSource, EventTimeSource, KeySource } from './record-source.ts';
export { describeSource, eventTimeFromText, parseEventTimeSource, parseKeySource } from './record-source.ts';
