import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { ConvoyError } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import type { KafkaClients } from './client.ts';
import { classifyKafkaError, KAFKA_TOPIC_NOT_READY, KAFKA_TOPIC_TOO_FEW_PARTITIONS } from './errors.ts';

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configs for a topic this call creates, e.g. `{ 'cleanup.policy': 'compact' }`. Existing topics are not altered. */
  configs?: Record<string, string>;
}

export interface EnsureTopicsOptions {
  /** How long to wait for metadata to show every topic with its partitions. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Makes every topic exist with at least the required partitions, then waits until the cluster's
 * metadata shows them all with leaders. Missing topics are created with replication factor
 * min(3, brokers). An existing topic with fewer partitions than required throws
 * `KAFKA_TOPIC_TOO_FEW_PARTITIONS` (never silently repartitioned: that would move keys).
 * Returns the actual partition count of each topic.
 */
export async function ensureTopics(
  clients: KafkaClients,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<Map<string, number>> {
  const admin = await clients.admin();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    if (missing.length > 0) {
      const brokers = (await admin.describeCluster()).brokers.length;
      const replicationFactor = Math.min(3, brokers);
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((spec) => ({
            topic: spec.topic,
            numPartitions: spec.partitions,
            replicationFactor,
            configEntries: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
        });
      } catch (error) {
        // Another instance created them first, or (kafkajs's waitForLeaders retries only
        // LEADER_NOT_AVAILABLE) the new topics are created but not in the metadata yet, as on a
        // freshly started broker: fine, the loop below waits for them and verifies.
        if (!CREATED_OR_PENDING.has(classifyKafkaError(error).code)) throw error;
      }
      clients.logger.info({ topics: missing.map((s) => s.topic), replicationFactor }, 'created topics');
    }
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const counts = await partitionCounts(clients, specs.map((s) => s.topic));
      const notReady = specs.filter((spec) => counts.get(spec.topic) === undefined);
      if (notReady.length === 0) {
        for (const spec of specs) {
          const actual = counts.get(spec.topic) ?? 0;
          if (actual < spec.partitions) {
            throw new ConvoyError(
              KAFKA_TOPIC_TOO_FEW_PARTITIONS,
              `topic ${spec.topic} has ${actual} partitions, ${spec.partitions} are required; add partitions or configure fewer`,
              { context: { topic: spec.topic, actual, required: spec.partitions } },
            );
          }
        }
        return counts;
      }
      if (Date.now() > deadline) {
        throw new ConvoyError(KAFKA_TOPIC_NOT_READY, `topics not visible in metadata: ${notReady.map((s) => s.topic).join(', ')}`, {
          retriable: true,
          context: { topics: notReady.map((s) => s.topic) },
        });
      }
      await sleep(200);
    }
  } catch (error) {
    throw classifyKafkaError(error);
  }
}

const CREATED_OR_PENDING = new Set(['KAFKA_TOPIC_ALREADY_EXISTS', 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION', 'KAFKA_LEADER_NOT_AVAILABLE']);

/** Partition count per topic whose every partition has a leader; absent topics are absent. */
async function partitionCounts(clients: KafkaClients, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = await clients.admin();
  const counts = new Map<string, number>();
  for (const topic of topics) {
    try {
      const { topics: [meta] } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (meta !== undefined && meta.partitions.length > 0 && meta.partitions.every((p) => p.leader >= 0)) {
        counts.set(topic, meta.partitions.length);
      }
    } catch (error) {
      const code = classifyKafkaError(error).code;
      if (code !== 'KAFKA_UNKNOWN_TOPIC_OR_PARTITION' && code !== 'KAFKA_LEADER_NOT_AVAILABLE') throw error;
    }
  }
  return counts;
}

/** Deletes topics; topics that do not exist are ignored. Meant for tests and tooling. */
export async function deleteTopics(clients: KafkaClients, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = await clients.admin();
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((topic) => existing.has(topic));
  if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
}

/** Deletes a consumer group (must have no members). Meant for tests and tooling. */
export async function deleteGroups(clients: KafkaClients, groupIds: readonly string[]): Promise<void> {
  const admin = await clients.admin();
  await admin.deleteGroups([...groupIds]).catch(() => undefined);
}

/**
 * High watermark (offset of the next record to be written) per partition. Note: under
 * read_committed a consumer stops at the last stable offset, which may be below it while a
 * transaction is open.
 */
export async function fetchEndOffsets(clients: KafkaClients, topic: string): Promise<Map<number, number>> {
  const admin = await clients.admin();
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

/** The group's committed offset (next offset to consume) per partition; null when none is committed. */
export async function fetchCommittedOffsets(clients: KafkaClients, groupId: string, topic: string): Promise<Map<number, number | null>> {
  const admin = await clients.admin();
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const out = new Map<number, number | null>();
  for (const p of entry?.partitions ?? []) out.set(p.partition, Number(p.offset) < 0 ? null : Number(p.offset));
  return out;
}

export interface WaitForTopicOptions {
  /** Give up after this long. Default 60 s. */
  waitMs?: number;
  /** The error code when the topic never appears, e.g. `MERGER_INPUT_TOPIC_MISSING`. */
  code: string;
  /** What the operator should do, appended to the message, e.g. "create it or set MERGER_INPUT_TOPIC". */
  hint: string;
  logger?: Logger;
}

/**
 * The partition count of `topic`, waiting for it to exist: a service may start before whoever
 * creates its input topic. Throws a retriable `ConvoyError` with `options.code` once `waitMs` has
 * passed, so the orchestrator restarts the service and it waits again.
 */
export async function waitForTopic(clients: KafkaClients, topic: string, options: WaitForTopicOptions): Promise<number> {
  const deadline = Date.now() + (options.waitMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    try {
      const ends = await fetchEndOffsets(clients, topic);
      if (ends.size > 0) return ends.size;
    } catch (error) {
      // Our own non-retriable errors (refused credentials) will not go away by waiting.
      if (error instanceof ConvoyError && !error.retriable) throw error;
      if (Date.now() > deadline) {
        throw new ConvoyError(options.code, `input topic ${topic} does not exist; ${options.hint}`, { retriable: true, cause: error, context: { topic } });
      }
      if (attempt === 0) options.logger?.info({ topic }, 'waiting for the input topic');
    }
    await sleep(500);
  }
}

/**
 * Each topic's effective `max.message.bytes` (its own setting, else the broker's
 * `message.max.bytes`): the largest record batch the broker accepts for it.
 */
export async function fetchMaxMessageBytes(clients: KafkaClients, topics: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (topics.length === 0) return out;
  const admin = await clients.admin();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [...new Set(topics)].map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })),
  });
  for (const resource of resources) {
    const entry = resource.configEntries.find((e) => e.configName === 'max.message.bytes');
    const value = Number(entry?.configValue);
    if (Number.isSafeInteger(value) && value > 0) out.set(resource.resourceName, value);
  }
  return out;
}
