import { HEADER, type ConvoyRecord } from '@convoy/kafka';
import { CONSUMED_HEADER, STREAM_HEADER, type ReorderMode, type ResumePoint } from './reorder-handler.ts';

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function numberHeader(record: ConvoyRecord, name: string): number | undefined {
  const text = record.headers[name]?.toString('utf8');
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Stop condition for reading an output partition backwards on assignment, given `committed`, the
 * group's committed input offset (restarts re-consume from it). `convoy-reorder-consumed` is
 * non-decreasing along the output partition and every record released from input offset x carries
 * a value > x; so once a window holds a record whose value is ≤ committed, every output record of an
 * input at or after `committed` lies after it, and reading further back proves nothing.
 */
export function tailIsEnough(committed: number | undefined): (records: readonly ConvoyRecord[]) => boolean {
  return (records) => {
    if (committed === undefined) return false;
    for (const record of records) {
      const consumed = numberHeader(record, CONSUMED_HEADER);
      if (consumed !== undefined && consumed <= committed) return true;
    }
    return false;
  };
}

/**
 * What this partition released before the restart, from the committed tail of its output partition
 * (records in offset order, read with read_committed): per stream, the last seq or event time
 * released in order (records flagged `convoy-late` were written out of order and prove nothing), and
 * `consumed` = the highest `convoy-reorder-consumed` seen (0 when none).
 */
export function resumePointFromTail(records: readonly ConvoyRecord[], mode: ReorderMode): ResumePoint {
  const last = new Map<string, number>();
  let consumed = 0;
  for (const record of records) {
    const c = numberHeader(record, CONSUMED_HEADER);
    const stream = record.headers[STREAM_HEADER]?.toString('utf8');
    if (c === undefined || stream === undefined) continue;
    if (c > consumed) consumed = c;
    if (record.headers[HEADER.late]?.toString('utf8') === 'true') continue;
    const value = numberHeader(record, mode === 'sequence' ? HEADER.seq : HEADER.eventTime);
    if (value === undefined) continue;
    const known = last.get(stream);
    if (known === undefined || value > known) last.set(stream, value);
  }
  return { consumed, last };
}
