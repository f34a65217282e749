// Shell I/O: reads the end of one output partition with read_committed. It uses the port's kafkajs
// instance directly because @convoy/kafka has no "read a partition range" function yet; this file
// is meant to move into the port (report item), the decision logic stays in resume-point.ts.
import { randomUUID } from 'node:crypto';
import { ConvoyError } from '@convoy/errors';
import { classifyKafkaError, type ConvoyRecord, type KafkaClients } from '@convoy/kafka';
import type { Logger } from '@convoy/logging';
import { resumePointsFromTail, tailWindow } from './resume-point.ts';

type Consumer = ReturnType<KafkaClients['kafkajs']['consumer']>;

export const MERGER_RECOVERY_TIMEOUT = 'MERGER_RECOVERY_TIMEOUT';

export interface ReadLastReleasedOptions {
  clients: KafkaClients;
  topic: string;
  partition: number;
  /** Offsets read back per step. */
  window: number;
  logger: Logger;
  /** Give up (retriable error) after this long. Default 30 s. */
  timeoutMs?: number;
}

/**
 * The last seq released in order per source, from the committed tail of `topic`/`partition`: walks
 * back from the last stable offset in windows until a window holds an in-order data record; an empty
 * partition gives an empty map (nothing to resume). Records of open or aborted transactions are
 * never seen (read_committed), so after a kill -9 this is exactly what the last committed
 * transaction wrote, together with the input offsets committed in it.
 */
export async function readLastReleased(options: ReadLastReleasedOptions): Promise<Map<string, number>> {
  const { clients, topic, partition, window } = options;
  const admin = await clients.admin();
  // Admin ListOffsets is read_committed: `high` is the last stable offset.
  const offsets = await admin.fetchTopicOffsets(topic);
  const entry = offsets.find((o) => o.partition === partition);
  const start = Number(entry?.low ?? 0);
  const end = Number(entry?.high ?? 0);
  if (tailWindow(start, end, window, 0) === undefined) return new Map();

  const consumer: Consumer = clients.kafkajs.consumer({
    groupId: `convoy-merger-recovery-${randomUUID()}`,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  let range: { from: number; to: number } = { from: 0, to: 0 };
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
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.topic !== topic || batch.partition !== partition) return;
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < range.from || offset >= range.to) continue;
          collected.push({
            topic,
            partition,
            offset,
            timestamp: Number(m.timestamp),
            key: m.key ?? null,
            value: m.value ?? null,
            headers: Object.fromEntries(
              Object.entries(m.headers ?? {}).map(([k, v]) => [k, toBuffer(Array.isArray(v) ? v[v.length - 1] : v)]),
            ),
          });
        }
      },
    });
    for (let step = 0; ; step++) {
      const next = tailWindow(start, end, window, step);
      if (next === undefined) return new Map();
      range = next;
      collected = [];
      reached = next.from - 1;
      consumer.seek({ topic, partition, offset: String(next.from) });
      while (reached < next.to - 1) {
        if (Date.now() > deadline) {
          throw new ConvoyError(MERGER_RECOVERY_TIMEOUT, `reading ${topic}/${partition} offsets [${next.from}, ${next.to}) timed out`, {
            retriable: true,
            context: { topic, partition, ...next },
          });
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      const points = resumePointsFromTail(collected.sort((a, b) => a.offset - b.offset));
      if (points.size > 0) {
        options.logger.debug({ topic, partition, window: next, points: Object.fromEntries(points) }, 'recovered last released seq');
        return points;
      }
    }
  } catch (error) {
    throw classifyKafkaError(error);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

function toBuffer(value: Buffer | string | undefined): Buffer | undefined {
  return value === undefined ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value);
}
