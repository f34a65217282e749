/**
 * Convoy's own record types. Services see only these, never kafkajs types, so the client behind
 * this port can be swapped.
 */

/** Record headers. A header repeated in the input keeps its last value. */
export type RecordHeaders = Record<string, Buffer | undefined>;

/**
 * A record as consumed. Offsets and timestamps are plain numbers: Kafka offsets stay far below
 * 2^53 in practice, and seq arithmetic (offset + 1) is then ordinary arithmetic.
 */
export interface ConvoyRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Record timestamp, ms since the epoch (create or log-append time, as the topic says). */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeaders;
}

/**
 * A record to produce. Without `partition` the default (murmur2, Java-compatible) partitioner picks
 * it from the key, exactly as any Java client keyed the same way would.
 */
export interface OutgoingRecord {
  topic: string;
  partition?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: RecordHeaders;
  /** ms since the epoch; default: the producer's clock. */
  timestamp?: number;
}

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function partitionId(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}
