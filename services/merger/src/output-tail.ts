// Shell I/O: the last seq released per source, from the committed tail of one output partition.
import { readPartitionTail, type KafkaClients } from '@convoy/kafka';
import type { Logger } from '@convoy/logging';
import { resumePointsFromTail } from './resume-point.ts';

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
 * Walks back from the last stable offset until a window holds an in-order data record; an empty
 * partition gives an empty map (nothing to resume). After a kill -9 this is exactly what the last
 * committed transaction wrote, together with the input offsets committed in it.
 */
export async function readLastReleased(options: ReadLastReleasedOptions): Promise<Map<string, number>> {
  const records = await readPartitionTail(options.clients, {
    topic: options.topic,
    partition: options.partition,
    window: options.window,
    enough: (window) => resumePointsFromTail(window).size > 0,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const points = resumePointsFromTail(records);
  options.logger.debug({ topic: options.topic, partition: options.partition, points: Object.fromEntries(points) }, 'recovered last released seq');
  return points;
}
