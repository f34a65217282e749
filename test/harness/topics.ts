/**
 * Test-side Kafka access, on kafkajs directly rather than on Convoy's own port: the verifier should
 * not share code with what it verifies.
 */
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { testStack, uniqueName } from './stack.ts';

export interface ReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, string>;
}

export function testKafka(): Kafka {
  return new Kafka({ clientId: uniqueName('convoy-test'), brokers: testStack().brokers, logLevel: logLevel.NOTHING });
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopics(specs: { topic: string; partitions: number }[]): Promise<void> {
  await withAdmin((admin) =>
    // kafkajs waits 5 s for leaders by default; a broker that has just started on a busy machine can take longer.
    admin.createTopics({ waitForLeaders: true, timeout: 30_000, topics: specs.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: 1 })) }),
  );
}

export async function deleteTopics(topics: string[]): Promise<void> {
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

export async function deleteGroups(groups: string[]): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.deleteGroups(groups).catch(() => undefined);
  });
}

/** High watermark per partition: with read_committed it includes transaction markers. */
export async function endOffsets(topic: string): Promise<Map<number, number>> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  });
}

export interface ProduceRecord {
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly partition?: number;
  readonly headers?: IHeaders;
}

export async function produce(topic: string, records: ProduceRecord[], batchSize = 5000): Promise<void> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += batchSize) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + batchSize) });
    }
  } finally {
    await producer.disconnect();
  }
}

function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString();
  }
  return out;
}

/**
 * Reads a topic from the beginning with read_committed until `until(records)` holds or the time
 * runs out, then returns everything read (callers assert on it, so a timeout is not an error here).
 */
export async function readTopic(
  topic: string,
  options: { until?: (records: readonly ReadRecord[]) => boolean; timeoutMs?: number; idleMs?: number } = {},
): Promise<ReadRecord[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('convoy-test-reader'), readUncommitted: false });
  const records: ReadRecord[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const idleMs = options.idleMs ?? 3_000;
  let lastArrival = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records.push({
            partition: batch.partition,
            offset: Number(m.offset),
            key: m.key === null ? null : m.key.toString(),
            value: m.value,
            headers: headerText(m.headers),
          });
        }
        if (batch.messages.length > 0) lastArrival = Date.now();
      },
    });
    const started = Date.now();
    for (;;) {
      if (options.until?.(records) === true) break;
      if (Date.now() - started > timeoutMs) break;
      if (options.until === undefined && Date.now() - lastArrival > idleMs && Date.now() - started > idleMs) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Per record key, the `convoy-seq` headers of `records` in topic order (partition, then offset). */
export function seqsByKey(records: readonly ReadRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const list = out.get(r.key ?? '') ?? [];
    list.push(Number(r.headers['convoy-seq']));
    out.set(r.key ?? '', list);
  }
  return out;
}
