// Shell I/O for the counter: the durable reservation log is a compacted, single-partition topic.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConvoyError } from '@convoy/errors';
import { createBatchedProducer, deleteGroups, ensureTopics, fetchEndOffsets, runConsumer, type BatchedProducer, type KafkaClients } from '@convoy/kafka';
import type { Logger } from '@convoy/logging';

export const COUNTER_RECOVERY_TIMEOUT = 'COUNTER_RECOVERY_TIMEOUT';
export const COUNTER_LOG_CORRUPT = 'COUNTER_LOG_CORRUPT';
const KEY = 'reserved-up-to';

/**
 * The highest decimal value in `topic` (all partitions), read from the beginning with
 * read_committed until every partition's end offset (taken before reading) is reached; 0 when the
 * topic is empty. A value that is not a non-negative decimal integer throws `COUNTER_LOG_CORRUPT`
 * (the counter must not guess). Uses a throwaway consumer group, deleted afterwards.
 */
export async function readHighestValue(clients: KafkaClients, topic: string, logger: Logger, timeoutMs = 30_000): Promise<number> {
  const ends = await fetchEndOffsets(clients, topic);
  const pending = new Map([...ends].filter(([, end]) => end > 0));
  if (pending.size === 0) return 0;
  let highest = 0;
  let failure: ConvoyError | undefined;
  const groupId = `${clients.clientId}-recovery-${randomUUID()}`;
  const loop = await runConsumer({
    clients,
    groupId,
    topics: [topic],
    fromBeginning: true,
    logger,
    onBatch: (tp, records) => {
      for (const record of records) {
        const text = record.value?.toString('utf8') ?? '';
        if (!/^(0|[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text))) {
          failure ??= new ConvoyError(COUNTER_LOG_CORRUPT, `${topic}/${tp.partition}@${record.offset} holds ${JSON.stringify(text)}, not a reservation bound`, {
            context: { topic, partition: tp.partition, offset: record.offset },
          });
          continue;
        }
        highest = Math.max(highest, Number(text));
        const end = pending.get(tp.partition);
        if (end !== undefined && record.offset + 1 >= end) pending.delete(tp.partition);
      }
    },
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0 && failure === undefined) {
      if (Date.now() > deadline) {
        throw new ConvoyError(COUNTER_RECOVERY_TIMEOUT, `reading ${topic} to its end timed out`, { retriable: true, context: { topic } });
      }
      await sleep(50);
    }
    if (failure !== undefined) throw failure;
    return highest;
  } finally {
    await loop.stop();
    await deleteGroups(clients, [groupId]);
  }
}

/** Where the counter makes its reservations durable. */
export interface ReservationLog {
  /** Resolves once `bound` is written with acks=all (idempotent producer); rejects otherwise. */
  write(bound: number): Promise<void>;
  close(): Promise<void>;
}

export async function ensureCounterTopic(clients: KafkaClients, topic: string): Promise<void> {
  await ensureTopics(clients, [{ topic, partitions: 1, configs: { 'cleanup.policy': 'compact' } }]);
}

export async function openReservationLog(clients: KafkaClients, topic: string): Promise<ReservationLog> {
  const producer: BatchedProducer = await createBatchedProducer(clients);
  return {
    write: (bound) => producer.send([{ topic, partition: 0, key: KEY, value: String(bound) }]),
    close: () => producer.disconnect(),
  };
}
