import { ConvoyError } from '@convoy/errors';
import {
  deadLetterRecord,
  decodeEnvelope,
  HEADER,
  type ConvoyRecord,
  type Envelope,
  type OutgoingRecord,
  type RecordHeaders,
} from '@convoy/kafka';
import {
  ConvoyMerge,
  type LatePolicy,
  type ProgressMarker,
  type ReorderOutput,
  type SequenceFiller,
  type SequenceOverflowPolicy,
  type SuspectedDropCause,
} from '@convoy/ordering';

/** The first seq of a later routing epoch (docs/wire-contract.md, "Rescaling"); decoded by `decodeEnvelope` as `epochStart`. */
export const EPOCH_START_HEADER = HEADER.epochStart;
/** Why a record went to the late topic. */
export const LATE_REASON_HEADER = 'convoy-late-reason';

/** Sub-stream specific headers the merger does not copy to `convoy.ordered` (they describe the path, not the event). */
const PATH_HEADERS: readonly string[] = [HEADER.substream, HEADER.epoch, HEADER.substreams, EPOCH_START_HEADER];

export const MERGER_STAGE = 'merger';
export const MERGER_MISSING_HEADER = 'MERGER_MISSING_HEADER';
export const MERGER_INVALID_MARKER = 'MERGER_INVALID_MARKER';

export interface MergerOptions {
  outputTopic: string;
  lateTopic: string;
  dlqTopic: string;
  /** Ms a gap may stay open before it is skipped (last resort for a silent worker). */
  gapTimeoutMs: number;
  latePolicy: LatePolicy;
  /** true forbids `latePolicy: 'drop'` (checked at construction). */
  neverDrop: boolean;
  /** Held events (fillers included) of this partition. */
  capacity: number;
  /** Held bytes (key + value + headers) of this partition. */
  capacityBytes: number;
  overflow: SequenceOverflowPolicy;
}

/** Where output records go; the shell puts them into the partition's current transaction. */
export interface RecordSink {
  send(record: OutgoingRecord): void;
}

/** Metric hooks, called synchronously as things happen. Every method is optional. */
export interface MergerObserver {
  /** A data record left in order; `delayMs` = release time − its arrival at the merger. */
  released?(source: string, delayMs: number): void;
  /** A run of seqs was skipped without proof (gap timeout or overflow). */
  suspectedDrop?(source: string, fromSeq: number, toSeq: number, cause: SuspectedDropCause): void;
  /** A record went to the dead-letter topic. */
  deadLettered?(record: ConvoyRecord, error: ConvoyError): void;
}

/** Counters of one partition merger. `gaps*`, `duplicates`, `late*` come from the merge core. */
export interface MergerCounters {
  recordsIn: number;
  dataIn: number;
  fillersIn: number;
  markersIn: number;
  /**
   * Of `markersIn`: markers of an epoch not yet seen since a resume, proving nothing beyond the
   * resume point (e.g. a re-announced closing round of a rescaled-away epoch): ignored, see `resume`.
   */
  markersBelowResume: number;
  watermarksIgnored: number;
  deadLettered: number;
  released: number;
  lateEmitted: number;
  lateRouted: number;
  lateDropped: number;
  duplicates: number;
  gapsByMarker: number;
  gapsByTimeout: number;
  gapsByOverflow: number;
  rejectedFull: number;
}

/** One held data record: what the merge core orders, plus what the shell needs to write it and commit safely. */
interface HeldData {
  readonly seq: number;
  readonly prev: number | undefined;
  readonly bytes: number;
  /** Input offset in the merger's input partition: commits never pass it while it is held. */
  readonly offset: number;
  /** `now` when the record reached the merger. */
  readonly arrival: number;
  readonly sourcePartition: number;
  readonly record: ConvoyRecord;
}

interface HeldFiller extends SequenceFiller {
  readonly offset: number;
}

type Step = 'done' | 'rejected-full';

/**
 * The merger's logic for one assigned partition of `convoy.processed` (which carries the records of
 * source partition p, from every sub-stream): records in → data records out, in exact source order.
 * Pure: no I/O, no clock (time is `now`).
 *
 * Guarantees:
 * - Per source, records written to `outputTopic` (without `convoy-late`) are data records in strictly
 *   increasing seq order, each at most once, in partition = source partition; key, value, timestamp
 *   and headers are the original ones, minus the sub-stream path headers.
 * - A seq proven dropped by progress markers is released past at once; the gap timeout only fires
 *   when a sub-stream is silent. What arrives for a skipped seq follows `latePolicy`.
 * - Every input record leaves exactly one way: released, late (emitted flagged / routed / dropped,
 *   counted), duplicate (counted), applied (filler, marker), ignored (watermark, counted),
 *   dead-lettered (malformed envelope), or still held / pending.
 * - `safeCommitOffset()` never passes a record still held or pending: committing it with the output
 *   of the same transaction, a restart re-consumes every record not yet released.
 * - Held entries never exceed `capacity` / `capacityBytes`. Under `back-pressure` the record that did
 *   not fit and everything after it wait in `pending` (in order, so markers stay in position);
 *   `wantsPause` tells the shell to pause the partition until `onTick` drains them.
 */
export class PartitionMerger {
  readonly #options: MergerOptions;
  readonly #observer: MergerObserver;
  readonly #merge: ConvoyMerge<HeldData>;
  readonly #sources = new Set<string>();
  /** Sources seeded by `resume`, with the epochs whose markers were applied since. */
  readonly #resumedEpochs = new Map<string, Set<number>>();
  readonly #counters: MergerCounters = {
    recordsIn: 0,
    dataIn: 0,
    fillersIn: 0,
    markersIn: 0,
    markersBelowResume: 0,
    watermarksIgnored: 0,
    deadLettered: 0,
    released: 0,
    lateEmitted: 0,
    lateRouted: 0,
    lateDropped: 0,
    duplicates: 0,
    gapsByMarker: 0,
    gapsByTimeout: 0,
    gapsByOverflow: 0,
    rejectedFull: 0,
  };
  #pending: ConvoyRecord[] = [];
  #pendingHead = 0;
  /** Offset after the last record taken out of `pending` (processed one way or another). */
  #nextOffset: number | undefined;
  #sink: RecordSink | undefined;
  #now = 0;

  constructor(options: MergerOptions, observer: MergerObserver = {}) {
    if (options.neverDrop && options.latePolicy === 'drop') {
      throw new ConvoyError('MERGER_INVALID_OPTION', 'neverDrop forbids latePolicy drop: use route-late or emit-flagged', {
        context: { latePolicy: options.latePolicy },
      });
    }
    this.#options = options;
    this.#observer = observer;
    const output: ReorderOutput<HeldData> = {
      deliver: (source, event) => this.#deliver(source, event),
      late: (source, event, policy) => this.#late(source, event, policy),
      dropped: (_source, _event, reason) => {
        if (reason === 'duplicate') this.#counters.duplicates++;
        else this.#counters.lateDropped++;
      },
      suspectedDrop: (source, from, to, cause) => {
        if (cause === 'timeout') this.#counters.gapsByTimeout++;
        else this.#counters.gapsByOverflow++;
        this.#observer.suspectedDrop?.(source, from, to, cause);
      },
    };
    this.#merge = new ConvoyMerge<HeldData>(
      {
        // Markers always carry their sub-stream count (a marker without it is dead-lettered), so this
        // default is never used to prove anything.
        subStreams: 1,
        timeout: options.gapTimeoutMs,
        capacity: options.capacity,
        capacityBytes: options.capacityBytes,
        overflow: options.overflow,
        latePolicy: options.latePolicy,
        neverDrop: options.neverDrop ? () => true : undefined,
      },
      output,
    );
  }

  get counters(): Readonly<MergerCounters> {
    this.#counters.gapsByMarker = this.#merge.counters.gapsClosedByMarker;
    return this.#counters;
  }

  /** Held entries (data and fillers). */
  get size(): number {
    return this.#merge.size;
  }

  /** Held bytes. */
  get bytes(): number {
    return this.#merge.bytes;
  }

  /** Records not yet offered to the merge because the buffer was full (back-pressure only). */
  get pendingCount(): number {
    return this.#pending.length - this.#pendingHead;
  }

  /** True while records wait in `pending`: the shell should pause fetching this partition. */
  get wantsPause(): boolean {
    return this.pendingCount > 0;
  }

  /** Last seq accounted for on `source` (released, filled, proven or skipped). */
  lastReleased(source: string): number | undefined {
    return this.#merge.lastReleased(source);
  }

  /**
   * Seeds `source` (`<topic>/<partition>`) with the last seq already written to the output before
   * this assignment: replays at or below it are duplicates. Call before the first record.
   *
   * After a resume, a marker of an epoch not yet seen whose `upTo` is at or below the last released
   * seq is ignored (counted in `markersBelowResume`): it proves nothing new, and defining its epoch
   * would be harmful when the epoch lies wholly below the resume point (a rescaled-away epoch whose
   * closing round was consumed before the committed offset): the merge would wait for the rest of
   * that round forever, and every later gap would end by the timeout.
   */
  resume(source: string, lastReleasedSeq: number): void {
    this.#merge.resume(source, lastReleasedSeq);
    this.#sources.add(source);
    this.#resumedEpochs.set(source, new Set());
  }

  /** Offers a batch of input records (in offset order) and writes what becomes releasable to `sink`. */
  onRecords(records: readonly ConvoyRecord[], now: number, sink: RecordSink): void {
    for (const record of records) this.#pending.push(record);
    this.#run(now, sink, () => undefined);
  }

  /** Timer tick: skips gaps whose timeout passed, then retries records held back by back-pressure. */
  onTick(now: number, sink: RecordSink): void {
    this.#run(now, sink, () => this.#merge.deliverExpired(now));
  }

  /** The earliest `now` at which `onTick` will skip a gap; undefined when no gap is pending. */
  nextDeadline(): number | undefined {
    return this.#merge.nextDeadline();
  }

  /**
   * The input offset to commit with the current transaction: the offset of the oldest held or
   * pending record, else the offset after the last record processed. Undefined before any record.
   */
  safeCommitOffset(): number | undefined {
    let safe = this.#nextOffset;
    const firstPending = this.#pending[this.#pendingHead];
    if (firstPending !== undefined && (safe === undefined || firstPending.offset < safe)) safe = firstPending.offset;
    for (const source of this.#sources) {
      const oldest = this.#merge.oldestBuffered(source) as HeldData | HeldFiller | undefined;
      if (oldest !== undefined && (safe === undefined || oldest.offset < safe)) safe = oldest.offset;
    }
    return safe;
  }

  #run(now: number, sink: RecordSink, first: () => void): void {
    this.#now = now;
    this.#sink = sink;
    try {
      first();
      this.#drainPending(now);
    } finally {
      this.#sink = undefined;
    }
  }

  #drainPending(now: number): void {
    const pending = this.#pending;
    while (this.#pendingHead < pending.length) {
      const record = pending[this.#pendingHead] as ConvoyRecord;
      if (this.#step(record, now) === 'rejected-full') break;
      this.#pendingHead++;
      this.#nextOffset = record.offset + 1;
    }
    if (this.#pendingHead === pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    }
  }

  /** Processes one record; 'rejected-full' leaves it (and all after it) pending. */
  #step(record: ConvoyRecord, now: number): Step {
    let envelope: Envelope | undefined;
    try {
      envelope = decodeEnvelope(record.headers);
    } catch (error) {
      this.#deadLetter(record, error as ConvoyError);
      return 'done';
    }
    if (envelope === undefined) {
      this.#deadLetter(record, new ConvoyError(MERGER_MISSING_HEADER, `record has no ${HEADER.kind} header: not written by a Convoy worker`));
      return 'done';
    }
    if (envelope.kind === 'watermark') {
      this.#counters.recordsIn++;
      this.#counters.watermarksIgnored++;
      return 'done';
    }
    // decodeEnvelope guarantees seq and source for data, filler and progress.
    const source = envelope.source as { topic: string; partition: number };
    const sourceId = `${source.topic}/${source.partition}`;
    const seq = envelope.seq as number;
    switch (envelope.kind) {
      case 'data': {
        const held: HeldData = {
          seq,
          prev: envelope.prev,
          bytes: recordBytes(record),
          offset: record.offset,
          arrival: now,
          sourcePartition: source.partition,
          record,
        };
        this.#sources.add(sourceId);
        if (this.#merge.insert(sourceId, held, now) === 'rejected-full') {
          this.#counters.rejectedFull++;
          return 'rejected-full';
        }
        this.#counters.recordsIn++;
        this.#counters.dataIn++;
        return 'done';
      }
      case 'filler': {
        const filler: HeldFiller = envelope.prev === undefined ? { seq, offset: record.offset } : { seq, prev: envelope.prev, offset: record.offset };
        this.#sources.add(sourceId);
        if (this.#merge.fill(sourceId, filler, now) === 'rejected-full') {
          this.#counters.rejectedFull++;
          return 'rejected-full';
        }
        this.#counters.recordsIn++;
        this.#counters.fillersIn++;
        return 'done';
      }
      case 'progress': {
        const marker = markerOf(envelope);
        if (marker instanceof ConvoyError) {
          this.#deadLetter(record, marker);
          return 'done';
        }
        this.#sources.add(sourceId);
        const resumedEpochs = this.#resumedEpochs.get(sourceId);
        const epoch = marker.epoch ?? 0;
        if (resumedEpochs !== undefined && !resumedEpochs.has(epoch) && marker.upTo <= (this.#merge.lastReleased(sourceId) ?? Number.NEGATIVE_INFINITY)) {
          this.#counters.recordsIn++;
          this.#counters.markersIn++;
          this.#counters.markersBelowResume++;
          return 'done';
        }
        try {
          this.#merge.onProgress(sourceId, marker);
        } catch (error) {
          this.#deadLetter(record, new ConvoyError(MERGER_INVALID_MARKER, (error as Error).message, { cause: error }));
          return 'done';
        }
        resumedEpochs?.add(epoch);
        this.#counters.recordsIn++;
        this.#counters.markersIn++;
        return 'done';
      }
    }
  }

  #deliver(source: string, event: HeldData): void {
    this.#counters.released++;
    this.#emit(this.#options.outputTopic, event, orderedHeaders(event.record.headers));
    this.#observer.released?.(source, this.#now - event.arrival);
  }

  #late(_source: string, event: HeldData, policy: 'emit-flagged' | 'route-late'): void {
    const headers = orderedHeaders(event.record.headers);
    headers[HEADER.late] = Buffer.from('true');
    if (policy === 'emit-flagged') {
      this.#counters.lateEmitted++;
      this.#emit(this.#options.outputTopic, event, headers);
    } else {
      this.#counters.lateRouted++;
      headers[LATE_REASON_HEADER] = Buffer.from('arrived after the merger released past its seq (gap timeout or overflow)');
      this.#emit(this.#options.lateTopic, event, headers);
    }
  }

  #emit(topic: string, event: HeldData, headers: RecordHeaders): void {
    const r = event.record;
    (this.#sink as RecordSink).send({ topic, partition: event.sourcePartition, key: r.key, value: r.value, headers, timestamp: r.timestamp });
  }

  #deadLetter(record: ConvoyRecord, error: ConvoyError): void {
    this.#counters.recordsIn++;
    this.#counters.deadLettered++;
    (this.#sink as RecordSink).send(deadLetterRecord(record, error, MERGER_STAGE, this.#options.dlqTopic));
    this.#observer.deadLettered?.(record, error);
  }
}

function markerOf(envelope: Envelope): ProgressMarker | ConvoyError {
  if (envelope.substream === undefined) return new ConvoyError(MERGER_INVALID_MARKER, `a progress marker needs ${HEADER.substream}`);
  if (envelope.substreams === undefined) return new ConvoyError(MERGER_INVALID_MARKER, `a progress marker needs ${HEADER.substreams}`);
  const marker: { subStream: number; upTo: number; epoch: number; subStreams: number; epochStart?: number } = {
    subStream: envelope.substream,
    upTo: envelope.seq as number,
    epoch: envelope.epoch ?? 0,
    subStreams: envelope.substreams,
  };
  if (envelope.epochStart !== undefined) marker.epochStart = envelope.epochStart;
  return marker;
}

/** The original headers without the sub-stream path headers. */
function orderedHeaders(headers: RecordHeaders): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!PATH_HEADERS.includes(name)) out[name] = value;
  return out;
}

/** Size estimate for the byte cap: key + value + header names and values. */
export function recordBytes(record: ConvoyRecord): number {
  let n = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) n += name.length + (value?.length ?? 0);
  return n;
}
