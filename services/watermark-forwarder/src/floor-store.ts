// Shell I/O: the last combined watermark written, kept in a compacted single-partition topic so a
// restarted forwarder never writes a lower one. (A "read to the end of a topic" helper belongs in
// @convoy/kafka; the generator's counter has the same need.)
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConvoyError } from '@convoy/errors';
import { deleteGroups, fetchEndOffsets, runConsumer, type KafkaClients } from '@convoy/kafka';
import type { Logger } from '@convoy/logging';

export const WMF_RECOVERY_TIMEOUT = 'WMF_RECOVERY_TIMEOUT';
export const FLOOR_KEY = 'last-watermark';

/** The highest integer value in `topic` (read_committed, to the end offsets taken first); undefined when empty. Unparsable values are skipped and logged. */
export async function readFloor(clients: KafkaClients, topic: string, logger: Logger, timeoutMs = 30_000): Promise<number | undefined> {
  const ends = await fetchEndOffsets(clients, topic);
  const pending = new Map([...ends].filter(([, end]) => end > 0));
  if (pending.size === 0) return undefined;
  let highest: number | undefined;
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
        const value = /^-?(0|[1-9][0-9]*)$/.test(text) ? Number(text) : Number.NaN;
        if (Number.isSafeInteger(value)) highest = Math.max(highest ?? value, value);
        else logger.warn({ topic, offset: record.offset, value: text }, 'unparsable watermark floor record skipped');
        const end = pending.get(tp.partition);
        if (end !== undefined && record.offset + 1 >= end) pending.delete(tp.partition);
      }
    },
  });
  try {
    const deadline = Date.now() + timeoutMs;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new ConvoyError(WMF_RECOVERY_TIMEOUT, `reading ${topic} to its end timed out`, { retriable: true, context: { topic } });
      await sleep(50);
    }
    return highest;
  } finally {
    await loop.stop();
    await deleteGroups(clients, [groupId]);
  }
}
