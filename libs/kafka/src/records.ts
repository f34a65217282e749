import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { ConvoyRecord, OutgoingRecord, RecordHeaders } from './types.ts';

/** kafkajs headers → ours. A repeated header keeps its last value; strings become UTF-8 bytes. */
export function fromKafkaHeaders(headers: IHeaders | undefined): RecordHeaders {
  const out: RecordHeaders = {};
  if (headers === undefined) return out;
  for (const [name, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    out[name] = value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
  }
  return out;
}

export function fromKafkaMessage(topic: string, partition: number, message: KafkaMessage): ConvoyRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: fromKafkaHeaders(message.headers),
  };
}

export function toKafkaMessage(record: OutgoingRecord): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) if (value !== undefined) headers[name] = value;
  const message: Message = { key: record.key, value: record.value, headers };
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
  return message;
}

/** Groups records by topic for one `sendBatch`, keeping each topic's order. */
export function topicMessages(records: readonly OutgoingRecord[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const record of records) {
    let messages = byTopic.get(record.topic);
    if (messages === undefined) byTopic.set(record.topic, (messages = []));
    messages.push(toKafkaMessage(record));
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
