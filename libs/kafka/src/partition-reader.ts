import { randomUUID } from 'node:crypto';
import { ConvoyError } from '@convoy/errors';
import type { KafkaClients } from './client.ts';
import { classifyKafkaError } from './errors.ts';
import { fromKafkaMessage } from './records.ts';
import { withKafkaRetry } from './retry.ts';
import type { ConvoyRecord } from './types.ts';

export const KAFKA_READ_TIMEOUT = 'KAFKA_READ_TIMEOUT';

export interface ReadTailOptions {
  topic: string;
  partition: number;
  /** Offsets read back per step. Default 500. */
  window?: number;
  /**
   * Called with each window's committed records (offset order), newest window first; the walk stops
   * at the first window for which it returns true. Without it, only the last window is read.
   */
  enough?: (records: readonly ConvoyRecord[]) => boolean;
  /** One read gives up with a retriable KAFKA_READ_TIMEOUT after this long. Default 30 s. */
  timeoutMs?: number;
  /** Retriable failures (a read timeout, a leader moving, a broker restarting) are retried from scratch for this long. Default 120 s. */
  retryWindowMs?: number;
}

/**
 * Reads the committed end of one partition (read_committed: records of open or aborted transactions
 * are never seen), walking back from the last stable offset one window at a time until `enough`
 * says the window answers the caller's question. Returns the records of every window read, in
 * offset order; empty for an empty partition. This is how stages recover what they last wrote:
 * after a kill -9 the tail is exactly what the last committed transaction left.
 *
 * Transaction markers occupy offsets, so a window may hold fewer records than offsets, or none.
 */
export async function readPartitionTail(clients: KafkaClients, options: ReadTailOptions): Promise<ConvoyRecord[]> {
  return withKafkaRetry(`reading the tail of ${options.topic}/${options.partition}`, () => readPartitionTailOnce(clients, options), {
    windowMs: options.retryWindowMs ?? 120_000,
    logger: clients.logger,
  });
}

async function readPartitionTailOnce(clients: KafkaClients, options: ReadTailOptions): Promise<ConvoyRecord[]> {
  const { topic, partition } = options;
  const window = options.window ?? 500;
  const admin = await clients.admin();
  // Admin ListOffsets is read_committed here: `high` is the last stable offset.
  const offsets = await admin.fetchTopicOffsets(topic);
  const entry = offsets.find((o) => o.partition === partition);
  const start = Number(entry?.low ?? 0);
  const end = Number(entry?.high ?? 0);
  if (end <= start) return [];

  const consumer = clients.kafkajs.consumer({
    groupId: `convoy-tail-reader-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  let range = { from: 0, to: 0 };
  let collected: ConvoyRecord[] = [];
  let reached = -1;
  let wake: (() => void) | undefined;
  consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
    const p = event.payload;
    if (p.topic !== topic || p.partition !== partition || p.firstOffset === null) return;
    // Batches fetched before the last seek lie outside the range: they prove nothing about it.
    if (Number(p.firstOffset) < range.from || Number(p.firstOffset) >= range.to) return;
    reached = Math.max(reached, Number(p.lastOffset));
    wake?.();
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const read: ConvoyRecord[][] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.topic !== topic || batch.partition !== partition) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset >= range.from && offset < range.to) collected.push(fromKafkaMessage(topic, partition, m));
        }
      },
    });
    for (let to = end; to > start; to -= window) {
      range = { from: Math.max(start, to - window), to };
      collected = [];
      reached = range.from - 1;
      consumer.seek({ topic, partition, offset: String(range.from) });
      while (reached < range.to - 1) {
        if (Date.now() > deadline) {
          throw new ConvoyError(KAFKA_READ_TIMEOUT, `reading ${topic}/${partition} offsets [${range.from}, ${range.to}) timed out`, {
            retriable: true,
            context: { topic, partition, ...range },
          });
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      const records = collected.sort((a, b) => a.offset - b.offset);
      read.unshift(records);
      if (options.enough === undefined || options.enough(records)) break;
    }
    return read.flat();
  } catch (error) {
    throw classifyKafkaError(error);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
