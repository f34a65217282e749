// Shell I/O: reads the committed tail of one changelog partition through the port's
// readPartitionTail; the decision logic is the pure decodeChangelogTail.
import { readPartitionTail, type ConvoyRecord, type KafkaClients, type TopicPartition } from '@convoy/kafka';
import type { Logger } from '@convoy/logging';
import { decodeChangelogTail, type ChangelogTail } from './changelog.ts';

export interface ReadChangelogOptions {
  clients: KafkaClients;
  changelogTopic: string;
  input: TopicPartition;
  /** Offsets read back per step. */
  window: number;
  logger: Logger;
  timeoutMs?: number;
}

/**
 * The latest complete state write of `input` in changelog partition `input.partition`, read with
 * read_committed up to the last stable offset: after a kill -9 it is exactly the write committed
 * together with the input offsets, never one of an open or aborted transaction.
 */
export async function readChangelogState(options: ReadChangelogOptions): Promise<ChangelogTail> {
  const { input } = options;
  let read: ConvoyRecord[] = [];
  let answer: ChangelogTail | undefined;
  const all = await readPartitionTail(options.clients, {
    topic: options.changelogTopic,
    partition: input.partition,
    window: options.window,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    enough: (window) => {
      read = [...window, ...read];
      const tail = decodeChangelogTail(read, input, false);
      if (tail.kind === 'incomplete') return false;
      answer = tail;
      return true;
    },
  });
  // Without an answer the walk reached the partition's start: the whole partition was read.
  const tail = answer ?? decodeChangelogTail(all, input, true);
  options.logger.debug({ topic: options.changelogTopic, partition: input.partition, kind: tail.kind }, 'changelog tail read');
  return tail;
}
