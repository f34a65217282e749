import { decodeEnvelope, type ConvoyRecord } from '@convoy/kafka';

/**
 * The last seq already released in order, per source, found in the tail of an output partition
 * (records in offset order, read with read_committed). Only in-order data records count: a record
 * flagged `convoy-late` (emit-flagged policy) was written out of order and proves nothing, and a
 * record without a valid envelope is not ours. An empty map means "read further back" (or, at the
 * start of the partition, "nothing to resume").
 */
export function resumePointsFromTail(records: readonly ConvoyRecord[]): Map<string, number> {
  const points = new Map<string, number>();
  for (const record of records) {
    let envelope;
    try {
      envelope = decodeEnvelope(record.headers);
    } catch {
      continue;
    }
    if (envelope === undefined || envelope.kind !== 'data' || envelope.late === true) continue;
    const source = `${envelope.source?.topic}/${envelope.source?.partition}`;
    const seq = envelope.seq as number;
    const known = points.get(source);
    if (known === undefined || seq > known) points.set(source, seq);
  }
  return points;
}
