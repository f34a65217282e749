import { errorCode, errorMessage, isRetriable } from '@convoy/errors';
import type { ConvoyRecord, OutgoingRecord, RecordHeaders } from './types.ts';

/** Reason header names (docs/wire-contract.md, "Dead letters"). */
export const DLQ_HEADER = {
  code: 'convoy-error-code',
  message: 'convoy-error-message',
  stage: 'convoy-error-stage',
  retriable: 'convoy-error-retriable',
  connectTopic: '__connect.errors.topic',
  connectPartition: '__connect.errors.partition',
  connectOffset: '__connect.errors.offset',
  connectClass: '__connect.errors.exception.class.name',
  connectMessage: '__connect.errors.exception.message',
  springTopic: 'kafka_dlt-original-topic',
  springPartition: 'kafka_dlt-original-partition',
  springOffset: 'kafka_dlt-original-offset',
  springTimestamp: 'kafka_dlt-original-timestamp',
  springMessage: 'kafka_dlt-exception-message',
  springClass: 'kafka_dlt-exception-fqcn',
} as const;

/** Messages are cut to this many UTF-8 bytes so a huge error never makes the dead letter too large. */
export const MAX_ERROR_MESSAGE_BYTES = 4096;

function text(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length <= MAX_ERROR_MESSAGE_BYTES ? bytes : Buffer.from(bytes.subarray(0, MAX_ERROR_MESSAGE_BYTES).toString('utf8').replace(/\uFFFD$/, ''), 'utf8');
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function int64(value: number): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value));
  return buffer;
}

/**
 * The dead letter for `original`: the same key, value and headers, byte for byte, plus reason
 * headers. The record goes to `dlqTopic` with no explicit partition, so it is spread by its original
 * key. It is returned, not sent, so callers put it into the same transaction as the rest of the
 * batch (the dead letter and the input offset commit together).
 *
 * Header values: `convoy-error-*` and Kafka Connect's `__connect.errors.*` are UTF-8 text (numbers
 * in decimal). Spring Kafka's `kafka_dlt-original-partition` / `-offset` / `-timestamp` are
 * big-endian binary (int32 / int64 / int64), exactly as Spring's DeadLetterPublishingRecoverer
 * writes and reads them; the other `kafka_dlt-*` headers are UTF-8 text. A reason header already on
 * the original (a dead letter dead-lettered again) is replaced.
 */
export function deadLetterRecord(original: ConvoyRecord, error: unknown, stage: string, dlqTopic: string): OutgoingRecord {
  const code = errorCode(error);
  const message = errorMessage(error);
  const className = error instanceof Error ? error.name : typeof error;
  const headers: RecordHeaders = { ...original.headers };
  Object.assign(headers, {
    [DLQ_HEADER.code]: text(code),
    [DLQ_HEADER.message]: text(message),
    [DLQ_HEADER.stage]: text(stage),
    [DLQ_HEADER.retriable]: text(String(isRetriable(error))),
    [DLQ_HEADER.connectTopic]: text(original.topic),
    [DLQ_HEADER.connectPartition]: text(String(original.partition)),
    [DLQ_HEADER.connectOffset]: text(String(original.offset)),
    [DLQ_HEADER.connectClass]: text(className),
    [DLQ_HEADER.connectMessage]: text(`${code}: ${message}`),
    [DLQ_HEADER.springTopic]: text(original.topic),
    [DLQ_HEADER.springPartition]: int32(original.partition),
    [DLQ_HEADER.springOffset]: int64(original.offset),
    [DLQ_HEADER.springTimestamp]: int64(original.timestamp),
    [DLQ_HEADER.springMessage]: text(`${code}: ${message}`),
    [DLQ_HEADER.springClass]: text(className),
  });
  return { topic: dlqTopic, key: original.key, value: original.value, headers };
}
