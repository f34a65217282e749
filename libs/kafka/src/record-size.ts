import type { OutgoingRecord, RecordHeaders } from './types.ts';

/** Record batch v2 header: base offset 8, length 4, leader epoch 4, magic 1, crc 4, attributes 2, last offset delta 4, timestamps 16, producer id 8, epoch 2, base sequence 4, count 4. */
const BATCH_OVERHEAD = 61;
/** Per record: length, attributes, offset delta, key length, value length, header count (varints of at most 5 bytes) and the timestamp delta (varlong, at most 10). */
const RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** Per header: name length and value length varints. */
const HEADER_OVERHEAD = 10;

function length(x: Buffer | string | null | undefined): number {
  return x == null ? 0 : typeof x === 'string' ? Buffer.byteLength(x, 'utf8') : x.length;
}

/**
 * An upper bound of the bytes `record` takes as a batch of its own on the wire, uncompressed: what
 * the broker compares with the topic's `max.message.bytes`. A record at or below that limit by
 * this count is never refused as MESSAGE_TOO_LARGE, whatever its neighbours in the send.
 */
export function recordBatchBytes(record: Pick<OutgoingRecord, 'key' | 'value' | 'headers'>): number {
  let size = BATCH_OVERHEAD + RECORD_OVERHEAD + length(record.key) + length(record.value);
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value !== undefined) size += HEADER_OVERHEAD + Buffer.byteLength(name, 'utf8') + value.length;
  }
  return size;
}

/** Header naming what `fitRecord` left out of a record, e.g. `value,key`. */
export const OMITTED_HEADER = 'convoy-error-omitted';
/** Header with the original sizes of what was left out, e.g. `value=2097152 key=12`. */
export const OMITTED_BYTES_HEADER = 'convoy-error-omitted-bytes';

/**
 * `record` made to fit `maxBytes` (as counted by `recordBatchBytes`) for a topic that would refuse
 * it otherwise, e.g. a dead letter of an oversized record. Leaves out, in this order and only as far
 * as needed: the value, the key, then every header except `keep` (the reason headers). What was
 * left out is named in `convoy-error-omitted` and sized in `convoy-error-omitted-bytes`; a record
 * that fits is returned unchanged (the same object).
 */
export function fitRecord(record: OutgoingRecord, maxBytes: number, keep: (header: string) => boolean): OutgoingRecord {
  if (recordBatchBytes(record) <= maxBytes) return record;
  const omitted: string[] = [];
  const sizes: string[] = [];
  const marked = (): OutgoingRecord => ({
    ...fitted,
    headers: { ...fitted.headers, [OMITTED_HEADER]: Buffer.from(omitted.join(','), 'utf8'), [OMITTED_BYTES_HEADER]: Buffer.from(sizes.join(' '), 'utf8') },
  });
  let fitted: OutgoingRecord = { ...record };
  if (fitted.value !== null) {
    omitted.push('value');
    sizes.push(`value=${length(fitted.value)}`);
    fitted = { ...fitted, value: null };
    if (recordBatchBytes(marked()) <= maxBytes) return marked();
  }
  if (fitted.key !== null) {
    omitted.push('key');
    sizes.push(`key=${length(fitted.key)}`);
    fitted = { ...fitted, key: null };
    if (recordBatchBytes(marked()) <= maxBytes) return marked();
  }
  const kept: RecordHeaders = {};
  let dropped = 0;
  for (const [name, value] of Object.entries(fitted.headers ?? {})) {
    if (keep(name)) kept[name] = value;
    else if (value !== undefined) dropped += HEADER_OVERHEAD + Buffer.byteLength(name, 'utf8') + value.length;
  }
  omitted.push('headers');
  sizes.push(`headers=${dropped}`);
  fitted = { ...fitted, headers: kept };
  return marked();
}
