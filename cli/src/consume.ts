import { randomUUID } from 'node:crypto';
import { deleteGroups, runConsumer, type ConvoyRecord, type KafkaClients } from '@convoy/kafka';

export interface TopicReader {
  stop(): Promise<void>;
}

/**
 * Reads `topics` in a throwaway consumer group (deleted on stop, so nothing is left behind).
 * `fromBeginning` false starts at the end. read_committed unless told otherwise.
 */
export async function readTopics(
  clients: KafkaClients,
  options: { topics: readonly string[]; fromBeginning: boolean; isolation?: 'read_committed' | 'read_uncommitted'; onRecords: (records: readonly ConvoyRecord[]) => void },
): Promise<TopicReader> {
  const groupId = `convoy-cli-${randomUUID()}`;
  const loop = await runConsumer({
    clients,
    groupId,
    topics: options.topics,
    fromBeginning: options.fromBeginning,
    isolation: options.isolation ?? 'read_committed',
    onBatch: (_tp, records) => options.onRecords(records),
  });
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= loop.stop().then(() => deleteGroups(clients, [groupId]).catch(() => undefined));
      return stopped;
    },
  };
}
