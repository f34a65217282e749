/**
 * The hostile-input corpus (issue #7) for a convoy whose splitter reads the customer ID from the
 * payload (`SPLITTER_KEY_SOURCE=field:customerId`) and the event time from a header
 * (`SPLITTER_EVENT_TIME_SOURCE=header:event-time`), interleaved with good records. Deterministic:
 * the same seed gives the same bytes. docs/hostile-input.md lists every class and its reason code.
 */
import { prng } from '../../harness/convoy.ts';

export const EVENT_TIME_HEADER = 'event-time';
/** The splitter settings the corpus is written for. */
export const CORPUS_SPLITTER_ENV = { SPLITTER_KEY_SOURCE: 'field:customerId', SPLITTER_EVENT_TIME_SOURCE: `header:${EVENT_TIME_HEADER}` } as const;
/** The input topic must accept the oversized records (the sub-stream and DLQ topics keep the broker default). */
export const INPUT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A registry id no test registers (Apicurio hands out small ids). */
export const UNKNOWN_SCHEMA_ID = 2_000_000_000;
/** Bytes that are not UTF-8 (0xC3 starts a 2-byte sequence, 0x28 cannot continue it). */
export const MALFORMED_UTF8 = Buffer.from([0xc3, 0x28]);

export interface CorpusRecord {
  readonly partition: number;
  /** Offset in its input partition (a plain producer writes consecutive offsets from 0). */
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer>;
  /** The class name (docs/hostile-input.md); `good` for a record that must come out in order. */
  readonly kind: string;
  /** The dead-letter reason code a hostile record must carry; undefined for a good one. */
  readonly code?: string;
  /** Good records: the `id` field of the value, the order check's identity. */
  readonly id?: number;
  /** Oversized records: the dead letter must leave the value out. */
  readonly valueOmitted?: boolean;
}

type Hostile = Omit<CorpusRecord, 'partition' | 'offset'>;

/** The hostile classes, each as one record built at `now` (the processing clock is close to it). */
export function hostileClasses(random: () => number, now: number): Hostile[] {
  const noise = (n: number) => {
    const bytes = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(random() * 256);
    bytes[0] = 0xfe; // neither a registry frame (0x00) nor JSON
    return bytes;
  };
  const time = (ms: number | string) => ({ [EVENT_TIME_HEADER]: Buffer.from(String(ms)) });
  const json = (value: object) => Buffer.from(JSON.stringify(value));
  const ok = time(now);
  const framed = Buffer.alloc(9);
  framed.writeUInt8(0, 0);
  framed.writeUInt32BE(UNKNOWN_SCHEMA_ID, 1);
  framed.write('\x02abc', 5, 'latin1');
  const pad = (bytes: number) => json({ customerId: 'c-big', pad: 'x'.repeat(bytes) });
  return [
    { kind: 'random-bytes-value', key: Buffer.from('c-1'), value: noise(64), headers: ok, code: 'CODEC_DECODE_FAILED' },
    { kind: 'null-value', key: Buffer.from('c-1'), value: null, headers: ok, code: 'SPLITTER_NULL_VALUE' },
    { kind: 'unknown-schema-id', key: Buffer.from('c-1'), value: framed, headers: ok, code: 'CODEC_UNKNOWN_SCHEMA' },
    { kind: 'value-too-large', key: Buffer.from('c-big'), value: pad(1536 * 1024), headers: ok, code: 'SPLITTER_VALUE_TOO_LARGE', valueOmitted: true },
    // Under SPLITTER_MAX_VALUE_BYTES (1 MiB), but with key and headers over the broker default max.message.bytes
    // (1048588): before the record limit existed, the broker refused it and the splitter partition stopped.
    { kind: 'record-too-large', key: Buffer.from('c-big'), value: pad(1_048_400), headers: ok, code: 'SPLITTER_RECORD_TOO_LARGE', valueOmitted: true },
    { kind: 'malformed-utf8-event-time', key: null, value: json({ customerId: 'c-2', id: -1 }), headers: { [EVENT_TIME_HEADER]: MALFORMED_UTF8 }, code: 'SPLITTER_MALFORMED_HEADER' },
    {
      kind: 'spoofed-progress-marker',
      key: null,
      value: null,
      headers: { ...ok, 'convoy-kind': Buffer.from('progress'), 'convoy-seq': Buffer.from('0'), 'convoy-source': Buffer.from('spoof/0'), 'convoy-epoch': Buffer.from('0'), 'convoy-substreams': Buffer.from('2') },
      code: 'SPLITTER_SPOOFED_CONVOY_HEADER',
    },
    { kind: 'spoofed-seq', key: Buffer.from('c-3'), value: json({ customerId: 'c-3', id: -1 }), headers: { ...ok, 'convoy-seq': Buffer.from('0'), 'convoy-late': Buffer.from('true') }, code: 'SPLITTER_SPOOFED_CONVOY_HEADER' },
    { kind: 'event-time-far-future', key: null, value: json({ customerId: 'c-4' }), headers: time(now + 30 * 24 * 3_600_000), code: 'SPLITTER_EVENT_TIME_OUT_OF_RANGE' },
    { kind: 'event-time-far-past', key: null, value: json({ customerId: 'c-4' }), headers: time(1), code: 'SPLITTER_EVENT_TIME_OUT_OF_RANGE' },
    { kind: 'event-time-negative', key: null, value: json({ customerId: 'c-4' }), headers: time(-1000), code: 'SPLITTER_EVENT_TIME_OUT_OF_RANGE' },
    { kind: 'event-time-nan', key: null, value: json({ customerId: 'c-4' }), headers: time('NaN'), code: 'SPLITTER_EVENT_TIME_UNREADABLE' },
    { kind: 'missing-customer-id', key: Buffer.from('c-5'), value: json({ id: -1 }), headers: ok, code: 'SPLITTER_MISSING_CUSTOMER_ID' },
    { kind: 'empty-customer-id', key: Buffer.from('c-5'), value: json({ customerId: '' }), headers: ok, code: 'SPLITTER_MISSING_CUSTOMER_ID' },
  ];
}

/**
 * `good` good records over `partitions` partitions, with every hostile class inserted twice into
 * each partition at seeded positions. Some good records have a random-bytes key (irrelevant: the ID
 * is in the payload) or a foreign header with malformed UTF-8 (passed through untouched).
 */
export function hostileCorpus(options: { partitions: number; good: number; seed: number; now: number }): CorpusRecord[] {
  const random = prng(options.seed);
  const byPartition: Omit<CorpusRecord, 'offset'>[][] = Array.from({ length: options.partitions }, () => []);
  for (let id = 0; id < options.good; id++) {
    const partition = id % options.partitions;
    const customerId = `c-${Math.floor(random() * 40)}`;
    const headers: Record<string, Buffer> = { [EVENT_TIME_HEADER]: Buffer.from(String(options.now)) };
    let key: Buffer | null = Buffer.from(customerId);
    let kind = 'good';
    if (id % 17 === 5) {
      key = Buffer.from(Array.from({ length: 16 }, () => Math.floor(random() * 256)));
      kind = 'good-random-bytes-key';
    } else if (id % 19 === 7) {
      headers['x-foreign'] = MALFORMED_UTF8;
      kind = 'good-malformed-utf8-foreign-header';
    }
    byPartition[partition]!.push({ partition, key, value: Buffer.from(JSON.stringify({ customerId, id })), headers, kind, id });
  }
  for (let partition = 0; partition < options.partitions; partition++) {
    const list = byPartition[partition]!;
    for (const round of [0, 1]) {
      for (const hostile of hostileClasses(random, options.now)) {
        // The oversized ones once per partition: they are slow to move around on a shared machine.
        if (round === 1 && hostile.valueOmitted === true) continue;
        list.splice(1 + Math.floor(random() * (list.length - 1)), 0, { ...hostile, partition });
      }
    }
  }
  return byPartition.flatMap((list) => list.map((record, offset) => ({ ...record, offset })));
}
