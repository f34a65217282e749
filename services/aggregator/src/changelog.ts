/**
 * The changelog codec: one partition's whole state as gzip'd JSON, cut into chunks so no record
 * outgrows the broker's message limit, written to changelog partition = input partition. All
 * chunks of one write go into the same transaction as the results and the input offset commit,
 * so the changelog's last complete write always matches the committed offset.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConvoyError } from '@convoy/errors';
import type { ConvoyRecord, OutgoingRecord, TopicPartition } from '@convoy/kafka';

export const CHANGELOG_HEADER = {
  id: 'changelog-id',
  chunk: 'changelog-chunk',
  encoding: 'changelog-encoding',
} as const;

export const AGGREGATOR_CHANGELOG_CORRUPT = 'AGGREGATOR_CHANGELOG_CORRUPT';

/**
 * The records of one state write: `ceil(gzip(json) / chunkBytes)` chunks, keyed
 * `<topic>/<partition>#<i>` (so compaction keeps the latest of each chunk index), all carrying the
 * write's `id` and `i/n`.
 */
export function changelogRecords(changelogTopic: string, input: TopicPartition, id: number, state: unknown, chunkBytes: number): OutgoingRecord[] {
  const packed = gzipSync(Buffer.from(JSON.stringify(state), 'utf8'));
  const n = Math.max(1, Math.ceil(packed.length / chunkBytes));
  const records: OutgoingRecord[] = [];
  for (let i = 0; i < n; i++) {
    records.push({
      topic: changelogTopic,
      partition: input.partition,
      key: `${input.topic}/${input.partition}#${i}`,
      value: packed.subarray(i * chunkBytes, (i + 1) * chunkBytes),
      headers: {
        [CHANGELOG_HEADER.id]: Buffer.from(String(id)),
        [CHANGELOG_HEADER.chunk]: Buffer.from(`${i}/${n}`),
        [CHANGELOG_HEADER.encoding]: Buffer.from('gzip-json'),
      },
    });
  }
  return records;
}

/** What a tail of the changelog partition proves. */
export type ChangelogTail =
  | { readonly kind: 'empty' }
  | { readonly kind: 'state'; readonly id: number; readonly state: unknown }
  /** The last write's first chunk lies before the tail that was read: read further back. */
  | { readonly kind: 'incomplete' };

/**
 * The latest complete write of `input` among `records` (a tail of its changelog partition, any
 * order). Records of other inputs (a shared changelog) are skipped. `complete` says that `records`
 * reach back to the partition's start, so no write at all means empty.
 */
export function decodeChangelogTail(records: readonly ConvoyRecord[], input: TopicPartition, complete: boolean): ChangelogTail {
  const prefix = `${input.topic}/${input.partition}#`;
  const mine = records.filter((r) => r.key?.toString('utf8').startsWith(prefix) === true && r.headers[CHANGELOG_HEADER.id] !== undefined);
  mine.sort((a, b) => a.offset - b.offset);
  const last = mine[mine.length - 1];
  if (last === undefined) return complete ? { kind: 'empty' } : { kind: 'incomplete' };
  const id = Number(last.headers[CHANGELOG_HEADER.id]!.toString('utf8'));
  const [, total] = parseChunk(last);
  const chunks = new Map<number, Buffer>();
  for (const record of mine) {
    if (Number(record.headers[CHANGELOG_HEADER.id]!.toString('utf8')) !== id) continue;
    const [i, n] = parseChunk(record);
    if (n !== total) throw corrupt(input, `chunk counts ${n} and ${total} within write ${id}`);
    chunks.set(i, record.value ?? Buffer.alloc(0));
  }
  if (chunks.size < total) {
    if (complete) throw corrupt(input, `write ${id} has ${chunks.size} of ${total} chunks`);
    return { kind: 'incomplete' };
  }
  const packed = Buffer.concat(Array.from({ length: total }, (_, i) => chunks.get(i)!));
  try {
    return { kind: 'state', id, state: JSON.parse(gunzipSync(packed).toString('utf8')) };
  } catch (error) {
    throw corrupt(input, `write ${id} does not decode: ${(error as Error).message}`);
  }
}

function parseChunk(record: ConvoyRecord): [number, number] {
  const match = /^(\d+)\/(\d+)$/.exec(record.headers[CHANGELOG_HEADER.chunk]?.toString('utf8') ?? '');
  if (match === null) throw corrupt({ topic: record.topic, partition: record.partition }, `record ${record.offset} has no valid ${CHANGELOG_HEADER.chunk}`);
  return [Number(match[1]), Number(match[2])];
}

function corrupt(input: TopicPartition, message: string): ConvoyError {
  return new ConvoyError(AGGREGATOR_CHANGELOG_CORRUPT, `changelog of ${input.topic}/${input.partition}: ${message}`, { context: { ...input } });
}
