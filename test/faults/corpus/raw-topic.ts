/**
 * Reads a topic with read_committed keeping keys, values and header values as the raw bytes on the
 * wire (the shared harness reader turns them into text, which hides malformed UTF-8).
 */
import { testKafka } from '../../harness/topics.ts';
import { uniqueName } from '../../harness/stack.ts';

export interface RawRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer>;
}

/**
 * Reads from the beginning until `until` holds (or `timeoutMs`), then `settleMs` longer, so records
 * arriving after the expected count (duplicates) are seen too. A fixed settle rather than "until
 * quiet": topics with progress markers are never quiet.
 */
export async function readRaw(topic: string, options: { until: (records: readonly RawRecord[]) => boolean; timeoutMs: number; settleMs?: number }): Promise<RawRecord[]> {
  const consumer = testKafka().consumer({ groupId: uniqueName('convoy-test-raw'), readUncommitted: false });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, Buffer> = {};
          for (const [name, v] of Object.entries(m.headers ?? {})) {
            const last = Array.isArray(v) ? v[v.length - 1] : v;
            if (last !== undefined) headers[name] = Buffer.isBuffer(last) ? last : Buffer.from(last);
          }
          records.push({ partition: batch.partition, offset: Number(m.offset), key: m.key, value: m.value, headers });
        }
      },
    });
    const started = Date.now();
    while (!options.until(records) && Date.now() - started < options.timeoutMs) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, options.settleMs ?? 3_000));
  } finally {
    await consumer.disconnect();
  }
  return records;
}
