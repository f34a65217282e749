import { ConvoyError } from '@convoy/errors';
import { deadLetterRecord, fitRecord, HEADER, type ConvoyRecord, type OutgoingRecord, type RecordHeaders } from '@convoy/kafka';
import { fieldAt } from '@convoy/codecs';
import {
  EventTimeReorderBuffer,
  SequenceReorderBuffer,
  type LatePolicy,
  type OrderedOutput,
  type ReorderOutput,
  type SlackEstimator,
} from '@convoy/ordering';
import type { AttributeSource } from './config.ts';

export const REORDER_STAGE = 'reorder-buffer';
export const REORDER_MISSING_STREAM_KEY = 'REORDER_MISSING_STREAM_KEY';
export const REORDER_INVALID_SEQ = 'REORDER_INVALID_SEQ';
/** Event-time mode: a data record's event time is missing, or not a decimal integer of ms (a safe integer). */
export const REORDER_EVENT_TIME_UNREADABLE = 'REORDER_EVENT_TIME_UNREADABLE';
/** Event-time mode: an event time (or a watermark ahead of the clock) outside `eventTimeBounds`. */
export const REORDER_EVENT_TIME_OUT_OF_RANGE = 'REORDER_EVENT_TIME_OUT_OF_RANGE';
export const REORDER_UNKNOWN_KIND = 'REORDER_UNKNOWN_KIND';
export const REORDER_INVALID_OPTION = 'REORDER_INVALID_OPTION';

/** Stamped on every output record: the stream key it was ordered under (recovery reads it back). */
export const STREAM_HEADER = 'convoy-reorder-stream';
/**
 * Stamped on every output record: the highest input offset + 1 consumed by any incarnation of this
 * partition's reorder buffer when the record was written. Non-decreasing along the output partition,
 * so recovery knows where to stop reading back (see resume-point.ts).
 */
export const CONSUMED_HEADER = 'convoy-reorder-consumed';
/** Why a record went to the late topic. */
export const LATE_REASON_HEADER = 'convoy-late-reason';

export type ReorderMode = 'sequence' | 'event-time';

/**
 * Event-time mode: bounds on a data record's event time (ms since the epoch), each optional. The
 * relative ones are measured against the processing clock (`now` of the unit of work). A watermark
 * or progress record is held to `maxFutureMs` only: a time too far back never advances anything.
 */
export interface EventTimeBounds {
  /** Earliest accepted event time, absolute. */
  readonly min?: number;
  /** Latest accepted event time: this far ahead of `now`. */
  readonly maxFutureMs?: number;
  /** Earliest accepted event time: this far behind `now`. */
  readonly maxPastMs?: number;
}

export interface ReorderOptions {
  mode: ReorderMode;
  outputTopic: string;
  lateTopic: string;
  dlqTopic: string;
  streamKey: Exclude<AttributeSource, { kind: 'timestamp' }>;
  /** Sequence mode: where a data record's seq is. Fillers and markers always carry `convoy-seq`. */
  seqSource: Exclude<AttributeSource, { kind: 'key' | 'timestamp' }>;
  /** Event-time mode: where a data record's event time is. */
  eventTimeSource: Exclude<AttributeSource, { kind: 'key' }>;
  /** Sequence mode: ms a gap may stay open before it is skipped. */
  gapTimeoutMs: number;
  /** Event-time mode: one slack estimator per stream (K per stream). */
  estimator?: (stream: string) => SlackEstimator;
  /** Event-time mode: a stream silent this long is released. */
  idleFlushMs: number;
  policyOf: (stream: string) => LatePolicy;
  neverDrop: (stream: string) => boolean;
  capacity: number;
  capacityBytes: number;
  overflow: 'force-oldest' | 'back-pressure';
  /** Event-time mode; default: no bounds. */
  eventTimeBounds?: EventTimeBounds;
  /**
   * The largest dead letter (as `recordBatchBytes` counts it): one above it loses its value, then
   * its key, then its original headers (`fitRecord`). Default: unbounded.
   */
  maxDeadLetterBytes?: number;
}

/** One input record, with its payload decoded by the shell when a source is a payload field. */
export interface ReorderInput {
  readonly record: ConvoyRecord;
  /** The decoded payload (only when a `field:` source is configured and the value decoded). */
  readonly payload?: unknown;
  /** Why the payload did not decode (only when a `field:` source is configured). */
  readonly decodeError?: ConvoyError;
}

/** Where output records go; the shell puts them into the partition's current transaction. */
export interface RecordSink {
  send(record: OutgoingRecord): void;
}

/**
 * What this partition released before the restart, recovered from the committed tail of the output
 * partition. `consumed`: every input offset below it was processed in a committed transaction.
 * `last`: per stream, the last seq (sequence mode) or event time (event-time mode) released in order.
 */
export interface ResumePoint {
  readonly consumed: number;
  readonly last: ReadonlyMap<string, number>;
}

/** Counters of one partition's reorder buffer; each input record is counted in exactly one of the first group. */
export interface ReorderCounters {
  dataIn: number;
  fillersIn: number;
  markersIn: number;
  /** Control records that mean nothing in this mode (e.g. a filler in event-time mode). */
  controlIgnored: number;
  deadLettered: number;
  /** Of `deadLettered`: by error code. */
  readonly deadLetteredByCode: Map<string, number>;
  /** Dead letters written without their value (and maybe key and headers) to fit `maxDeadLetterBytes`. */
  deadLettersTrimmed: number;
  released: number;
  lateEmitted: number;
  lateRouted: number;
  lateDropped: number;
  duplicates: number;
  /** Of `duplicates`: replays at or below the resume point. */
  resumeDuplicates: number;
  /** Of the late counts: arrivals behind the resume point not seen before the restart. */
  resumeLate: number;
  gapsByFiller: number;
  gapsByMarker: number;
  gapsByTimeout: number;
  gapsByOverflow: number;
  rejectedFull: number;
}

interface Held {
  readonly seq: number;
  readonly prev: number | undefined;
  readonly eventTime: number;
  readonly bytes: number;
  readonly offset: number;
  readonly stream: string;
  readonly record: ConvoyRecord;
  /** Set when the event left the buffer (any way). */
  gone: boolean;
}

interface HeldFiller {
  readonly seq: number;
  readonly prev?: number;
  readonly offset: number;
}

/** One entry of the commit guard: a held input offset and how to tell it left the buffer. */
interface Guard {
  readonly offset: number;
  gone(): boolean;
}

type Step = 'done' | 'rejected-full';

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

/**
 * The reorder buffer's logic for one assigned input partition: records in → records out, per stream
 * key in seq order (sequence mode) or event-time order (event-time mode). Pure: no I/O, no clock.
 *
 * Guarantees:
 * - Per stream, records written to `outputTopic` without `convoy-late` are in strictly increasing seq
 *   order (sequence) or non-decreasing event time (event-time), each at most once, in the input
 *   partition; key, value, timestamp and headers are the original ones plus `convoy-seq` or
 *   `convoy-event-time`, `convoy-reorder-stream` and `convoy-reorder-consumed`.
 * - Every input record leaves exactly one way: released, late (emitted flagged / routed / dropped,
 *   counted), duplicate (counted), applied (filler, marker, watermark), ignored (counted),
 *   dead-lettered, or is still held / pending.
 * - `safeCommitOffset()` never passes a record still held or pending.
 * - After `resume(point)`, nothing at or below a stream's resume point is released in order again:
 *   replays below `point.consumed` are duplicates; arrivals at or after it behind the resume point
 *   follow the late policy (they may be first arrivals, so a never-drop stream loses nothing).
 * - Held entries never exceed `capacity` / `capacityBytes`; under `back-pressure` the record that
 *   did not fit and all after it wait in `pending` and `wantsPause` is true.
 * - Event-time mode: a data record whose event time breaks `eventTimeBounds` (at the unit's `now`),
 *   or a watermark / progress record more than `maxFutureMs` ahead of `now`, is dead-lettered
 *   (`REORDER_EVENT_TIME_OUT_OF_RANGE`) before it touches the buffer, its slack or its watermark.
 * - No dead letter exceeds `maxDeadLetterBytes` (`fitRecord` keeps the reason headers).
 */
export class PartitionReorder {
  readonly #o: ReorderOptions;
  readonly #seqBuffer: SequenceReorderBuffer<Held> | undefined;
  readonly #timeBuffer: EventTimeReorderBuffer<Held> | undefined;
  readonly #estimators = new Map<string, SlackEstimator>();
  readonly #counters: ReorderCounters = {
    dataIn: 0,
    fillersIn: 0,
    markersIn: 0,
    controlIgnored: 0,
    deadLettered: 0,
    deadLetteredByCode: new Map(),
    deadLettersTrimmed: 0,
    released: 0,
    lateEmitted: 0,
    lateRouted: 0,
    lateDropped: 0,
    duplicates: 0,
    resumeDuplicates: 0,
    resumeLate: 0,
    gapsByFiller: 0,
    gapsByMarker: 0,
    gapsByTimeout: 0,
    gapsByOverflow: 0,
    rejectedFull: 0,
  };
  #guards: Guard[] = [];
  #guardHead = 0;
  #pending: ReorderInput[] = [];
  #pendingHead = 0;
  #nextOffset: number | undefined;
  /** Offset of the record being processed right now (undefined outside a step, e.g. on a tick). */
  #current: number | undefined;
  readonly #stepHeaders: RecordHeaders[] = [];
  #consumedBase = 0;
  #resume: ResumePoint | undefined;
  #sink: RecordSink | undefined;

  constructor(options: ReorderOptions) {
    this.#o = options;
    const latePolicy = (stream: string): LatePolicy => {
      const policy = options.policyOf(stream);
      if (policy === 'drop' && options.neverDrop(stream)) {
        throw new ConvoyError(REORDER_INVALID_OPTION, `stream ${stream} is never-drop but its late policy is drop`, { context: { stream } });
      }
      return policy;
    };
    const base = {
      latePolicy,
      neverDrop: options.neverDrop,
      capacity: options.capacity,
      capacityBytes: options.capacityBytes,
    };
    const ordered: OrderedOutput<Held> = {
      deliver: (_stream, event) => this.#deliver(event),
      late: (_stream, event, policy) => this.#late(event, policy),
      dropped: (_stream, event, reason) => {
        event.gone = true;
        if (reason === 'duplicate') this.#counters.duplicates++;
        else this.#counters.lateDropped++;
      },
    };
    if (options.mode === 'sequence') {
      const output: ReorderOutput<Held> = {
        ...ordered,
        suspectedDrop: (_stream, _from, _to, cause) => {
          if (cause === 'timeout') this.#counters.gapsByTimeout++;
          else this.#counters.gapsByOverflow++;
        },
      };
      this.#seqBuffer = new SequenceReorderBuffer<Held>(
        { ...base, timeout: options.gapTimeoutMs, overflow: options.overflow === 'back-pressure' ? 'back-pressure' : 'force-oldest-gap' },
        output,
      );
    } else {
      const estimatorOf = options.estimator;
      this.#timeBuffer = new EventTimeReorderBuffer<Held>(
        {
          ...base,
          estimator:
            estimatorOf === undefined
              ? undefined
              : (stream) => {
                  const estimator = estimatorOf(stream);
                  this.#estimators.set(stream, estimator);
                  return estimator;
                },
          idleFlushMs: options.idleFlushMs,
          overflow: options.overflow === 'back-pressure' ? 'back-pressure' : 'force-release-oldest',
        },
        ordered,
      );
    }
  }

  get counters(): Readonly<ReorderCounters> {
    const seq = this.#seqBuffer?.counters;
    const time = this.#timeBuffer?.counters;
    if (seq !== undefined) {
      this.#counters.gapsByFiller = seq.fillersApplied;
      this.#counters.gapsByMarker = seq.gapsClosedByMarker;
    }
    if (time !== undefined) {
      // Event-time mode has no seq gaps: an idle flush is its timeout path, a forced release its overflow.
      this.#counters.gapsByTimeout = time.idleFlushed;
      this.#counters.gapsByOverflow = time.forcedReleases;
    }
    return this.#counters;
  }

  get size(): number {
    return this.#seqBuffer?.size ?? (this.#timeBuffer as EventTimeReorderBuffer<Held>).size;
  }

  get bytes(): number {
    return this.#seqBuffer?.bytes ?? (this.#timeBuffer as EventTimeReorderBuffer<Held>).bytes;
  }

  get pendingCount(): number {
    return this.#pending.length - this.#pendingHead;
  }

  get wantsPause(): boolean {
    return this.pendingCount > 0;
  }

  /** Current K (event-time units) per stream that has an estimator; empty in sequence mode. */
  slackByStream(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [stream, estimator] of this.#estimators) out.set(stream, estimator.slack);
    return out;
  }

  /** Seeds this partition with what it released before the restart. Call before the first record. */
  resume(point: ResumePoint): void {
    this.#resume = point;
    this.#consumedBase = point.consumed;
    if (this.#seqBuffer !== undefined) for (const [stream, seq] of point.last) this.#seqBuffer.resume(stream, seq);
  }

  onRecords(inputs: readonly ReorderInput[], now: number, sink: RecordSink): void {
    for (const input of inputs) this.#pending.push(input);
    this.#run(sink, () => undefined, now);
  }

  /** Timer tick: skips expired gaps (sequence) or flushes idle streams (event-time), then retries pending records. */
  onTick(now: number, sink: RecordSink): void {
    this.#run(
      sink,
      () => {
        this.#seqBuffer?.deliverExpired(now);
        this.#timeBuffer?.deliverIdle(now);
      },
      now,
    );
  }

  /** The earliest `now` at which `onTick` will release something; undefined when nothing waits on time. */
  nextDeadline(): number | undefined {
    return this.#seqBuffer?.nextDeadline() ?? this.#timeBuffer?.nextDeadline();
  }

  /**
   * The input offset to commit with the current transaction: the oldest held or pending record, else
   * the offset after the last processed record. Undefined before any record.
   */
  safeCommitOffset(): number | undefined {
    const guards = this.#guards;
    while (this.#guardHead < guards.length && (guards[this.#guardHead] as Guard).gone()) this.#guardHead++;
    if (this.#guardHead > 1024 && this.#guardHead * 2 > guards.length) {
      this.#guards = guards.slice(this.#guardHead);
      this.#guardHead = 0;
    }
    let safe = this.#nextOffset;
    const held = this.#guards[this.#guardHead];
    if (held !== undefined && (safe === undefined || held.offset < safe)) safe = held.offset;
    const pending = this.#pending[this.#pendingHead];
    if (pending !== undefined && (safe === undefined || pending.record.offset < safe)) safe = pending.record.offset;
    return safe;
  }

  #run(sink: RecordSink, first: () => void, now: number): void {
    this.#sink = sink;
    try {
      first();
      const pending = this.#pending;
      while (this.#pendingHead < pending.length) {
        const input = pending[this.#pendingHead] as ReorderInput;
        // Outputs of this step claim only the offsets before it, unless the step completes (a
        // record rejected under back-pressure is not processed yet, whatever it released).
        this.#current = input.record.offset;
        this.#stepHeaders.length = 0;
        const step = this.#step(input, now);
        this.#current = undefined;
        if (step === 'rejected-full') break;
        const consumed = Buffer.from(String(Math.max(this.#consumedBase, input.record.offset + 1)));
        for (const headers of this.#stepHeaders) headers[CONSUMED_HEADER] = consumed;
        this.#pendingHead++;
        this.#nextOffset = input.record.offset + 1;
      }
      if (this.#pendingHead === pending.length) {
        this.#pending = [];
        this.#pendingHead = 0;
      }
    } finally {
      this.#sink = undefined;
      this.#current = undefined;
    }
  }

  #step(input: ReorderInput, now: number): Step {
    const record = input.record;
    const kind = text(record.headers, HEADER.kind) ?? 'data';
    if (kind !== 'data' && kind !== 'filler' && kind !== 'progress' && kind !== 'watermark') {
      return this.#deadLetter(record, new ConvoyError(REORDER_UNKNOWN_KIND, `${HEADER.kind}=${JSON.stringify(kind)} is not data, filler, progress or watermark`));
    }
    const needsPayload = kind === 'data' && (this.#o.streamKey.kind === 'field' || this.#activeSource().kind === 'field');
    if (needsPayload && input.decodeError !== undefined) return this.#deadLetter(record, input.decodeError);
    const stream = streamKeyOf(this.#o.streamKey, input, kind === 'data');
    if (kind === 'data') {
      if (stream === undefined) {
        return this.#deadLetter(record, new ConvoyError(REORDER_MISSING_STREAM_KEY, `no stream key at ${describe(this.#o.streamKey)}`));
      }
      return this.#o.mode === 'sequence' ? this.#insertSeq(input, stream, now) : this.#insertTimed(input, stream, now);
    }
    return this.#control(kind, record, stream, now);
  }

  #activeSource(): AttributeSource {
    return this.#o.mode === 'sequence' ? this.#o.seqSource : this.#o.eventTimeSource;
  }

  #insertSeq(input: ReorderInput, stream: string, now: number): Step {
    const record = input.record;
    const seq = integerAt(this.#o.seqSource, input);
    if (seq === undefined || seq < 0) {
      return this.#deadLetter(record, new ConvoyError(REORDER_INVALID_SEQ, `missing or invalid seq at ${describe(this.#o.seqSource)}`));
    }
    const prevText = text(record.headers, HEADER.prev);
    const prev = prevText !== undefined && DECIMAL.test(prevText) ? Number(prevText) : undefined;
    if (prev !== undefined && !(prev < seq)) {
      return this.#deadLetter(record, new ConvoyError(REORDER_INVALID_SEQ, `${HEADER.prev}=${prev} is not below seq ${seq}`));
    }
    const held = this.#held(record, stream, seq, prev, 0);
    const floor = this.#resume?.last.get(stream);
    if (floor !== undefined && seq <= floor) return this.#behindResume(held, stream);
    const buffer = this.#seqBuffer as SequenceReorderBuffer<Held>;
    const outcome = buffer.insert(stream, held, now);
    if (outcome === 'rejected-full') {
      this.#counters.rejectedFull++;
      return 'rejected-full';
    }
    this.#counters.dataIn++;
    if (outcome === 'buffered' && !held.gone) this.#guards.push({ offset: held.offset, gone: () => held.gone });
    return 'done';
  }

  #insertTimed(input: ReorderInput, stream: string, now: number): Step {
    const record = input.record;
    const source = this.#o.eventTimeSource;
    const eventTime = source.kind === 'timestamp' ? record.timestamp : integerAt(source, input);
    if (eventTime === undefined || !Number.isSafeInteger(eventTime)) {
      return this.#deadLetter(record, new ConvoyError(REORDER_EVENT_TIME_UNREADABLE, `missing or unreadable event time at ${describe(source)} (expected decimal ms since the epoch)`));
    }
    const problem = outOfBounds(eventTime, now, this.#o.eventTimeBounds);
    if (problem !== undefined) {
      return this.#deadLetter(record, new ConvoyError(REORDER_EVENT_TIME_OUT_OF_RANGE, `event time ${eventTime} at ${describe(source)} is ${problem}`, { context: { eventTime, now } }));
    }
    const held = this.#held(record, stream, 0, undefined, eventTime);
    const floor = this.#resume?.last.get(stream);
    if (floor !== undefined && (eventTime < floor || (eventTime === floor && record.offset < (this.#resume as ResumePoint).consumed))) {
      return this.#behindResume(held, stream);
    }
    const buffer = this.#timeBuffer as EventTimeReorderBuffer<Held>;
    const outcome = buffer.insert(stream, held, now);
    if (outcome === 'rejected-full') {
      this.#counters.rejectedFull++;
      return 'rejected-full';
    }
    this.#counters.dataIn++;
    if (outcome === 'buffered' && !held.gone) this.#guards.push({ offset: held.offset, gone: () => held.gone });
    return 'done';
  }

  /** At or behind the resume point: a replay (duplicate) below `consumed`, else a late first arrival. */
  #behindResume(held: Held, stream: string): Step {
    this.#counters.dataIn++;
    if (held.offset < (this.#resume as ResumePoint).consumed) {
      held.gone = true;
      this.#counters.duplicates++;
      this.#counters.resumeDuplicates++;
      return 'done';
    }
    this.#counters.resumeLate++;
    const policy = this.#o.policyOf(stream);
    if (policy === 'drop' && !this.#o.neverDrop(stream)) {
      held.gone = true;
      this.#counters.lateDropped++;
    } else {
      this.#late(held, policy === 'emit-flagged' ? 'emit-flagged' : 'route-late');
    }
    return 'done';
  }

  #control(kind: 'filler' | 'progress' | 'watermark', record: ConvoyRecord, stream: string | undefined, now: number): Step {
    const seqText = text(record.headers, HEADER.seq);
    const seq = seqText !== undefined && DECIMAL.test(seqText) && !seqText.startsWith('-') ? Number(seqText) : undefined;
    const timeText = text(record.headers, HEADER.eventTime);
    const time = timeText !== undefined && DECIMAL.test(timeText) ? Number(timeText) : undefined;
    if (this.#seqBuffer !== undefined) {
      if (kind === 'watermark') return this.#ignored();
      if (stream === undefined) return this.#deadLetter(record, new ConvoyError(REORDER_MISSING_STREAM_KEY, `a ${kind} needs a stream key at ${describe(this.#o.streamKey)}`));
      if (seq === undefined || !Number.isSafeInteger(seq)) return this.#deadLetter(record, new ConvoyError(REORDER_INVALID_SEQ, `a ${kind} needs ${HEADER.seq}`));
      if (kind === 'filler') {
        const prevText = text(record.headers, HEADER.prev);
        const prev = prevText !== undefined && DECIMAL.test(prevText) && Number(prevText) < seq ? Number(prevText) : undefined;
        const filler: HeldFiller = prev === undefined ? { seq, offset: record.offset } : { seq, prev, offset: record.offset };
        const outcome = this.#seqBuffer.fill(stream, filler, now);
        if (outcome === 'rejected-full') {
          this.#counters.rejectedFull++;
          return 'rejected-full';
        }
        this.#counters.fillersIn++;
        if (outcome === 'buffered') {
          const buffer = this.#seqBuffer;
          this.#guards.push({ offset: record.offset, gone: () => (buffer.lastReleased(stream) ?? -1) >= seq });
        }
        return 'done';
      }
      // Wire contract: a progress marker's convoy-seq S means "everything up to S is accounted for".
      this.#counters.markersIn++;
      this.#seqBuffer.markAllBefore(stream, seq + 1);
      return 'done';
    }
    if (kind === 'filler' || time === undefined) return this.#ignored();
    const maxFutureMs = this.#o.eventTimeBounds?.maxFutureMs;
    if (maxFutureMs !== undefined && time > now + maxFutureMs) {
      // It would release every held event and make every later one late.
      return this.#deadLetter(
        record,
        new ConvoyError(REORDER_EVENT_TIME_OUT_OF_RANGE, `a ${kind} at ${HEADER.eventTime}=${time} is more than REORDER_EVENT_TIME_MAX_FUTURE_MS=${maxFutureMs} ahead of the processing clock ${now}`, {
          context: { eventTime: time, now },
        }),
      );
    }
    this.#counters.markersIn++;
    (this.#timeBuffer as EventTimeReorderBuffer<Held>).advanceWatermark(time, stream);
    return 'done';
  }

  #ignored(): Step {
    this.#counters.controlIgnored++;
    return 'done';
  }

  #held(record: ConvoyRecord, stream: string, seq: number, prev: number | undefined, eventTime: number): Held {
    return { seq, prev, eventTime, bytes: recordBytes(record), offset: record.offset, stream, record, gone: false };
  }

  #deliver(event: Held): void {
    event.gone = true;
    this.#counters.released++;
    this.#emit(this.#o.outputTopic, event, this.#headers(event));
  }

  #late(event: Held, policy: 'emit-flagged' | 'route-late'): void {
    event.gone = true;
    const headers = this.#headers(event);
    headers[HEADER.late] = Buffer.from('true');
    if (policy === 'emit-flagged') {
      this.#counters.lateEmitted++;
      this.#emit(this.#o.outputTopic, event, headers);
    } else {
      this.#counters.lateRouted++;
      headers[LATE_REASON_HEADER] = Buffer.from(
        this.#o.mode === 'sequence' ? 'arrived after its stream released past its seq (gap timeout, overflow or restart)' : 'arrived behind its stream\'s released event time',
      );
      this.#emit(this.#o.lateTopic, event, headers);
    }
  }

  #headers(event: Held): RecordHeaders {
    const headers: RecordHeaders = { ...event.record.headers };
    delete headers[HEADER.late];
    if (this.#o.mode === 'sequence') headers[HEADER.seq] = Buffer.from(String(event.seq));
    else headers[HEADER.eventTime] = Buffer.from(String(event.eventTime));
    headers[STREAM_HEADER] = Buffer.from(event.stream);
    headers[CONSUMED_HEADER] = Buffer.from(String(Math.max(this.#consumedBase, this.#current ?? this.#nextOffset ?? 0)));
    if (this.#current !== undefined) this.#stepHeaders.push(headers);
    return headers;
  }

  #emit(topic: string, event: Held, headers: RecordHeaders): void {
    const r = event.record;
    (this.#sink as RecordSink).send({ topic, partition: r.partition, key: r.key, value: r.value, headers, timestamp: r.timestamp });
  }

  #deadLetter(record: ConvoyRecord, error: ConvoyError): Step {
    this.#counters.deadLettered++;
    const byCode = this.#counters.deadLetteredByCode;
    byCode.set(error.code, (byCode.get(error.code) ?? 0) + 1);
    const dead = deadLetterRecord(record, error, REORDER_STAGE, this.#o.dlqTopic);
    const limit = this.#o.maxDeadLetterBytes;
    const fitted = limit === undefined ? dead : fitRecord(dead, limit, isReasonHeader);
    if (fitted !== dead) this.#counters.deadLettersTrimmed++;
    (this.#sink as RecordSink).send(fitted);
    return 'done';
  }
}

/** The dead-letter reason headers `fitRecord` must keep. */
export function isReasonHeader(name: string): boolean {
  return name.startsWith('convoy-error-') || name.startsWith('__connect.errors.') || name.startsWith('kafka_dlt-');
}

/** Why `eventTime` breaks `bounds` at processing time `now` (naming the setting), or undefined. */
export function outOfBounds(eventTime: number, now: number, bounds: EventTimeBounds | undefined): string | undefined {
  if (bounds === undefined) return undefined;
  if (bounds.min !== undefined && eventTime < bounds.min) return `before REORDER_EVENT_TIME_MIN=${bounds.min}`;
  if (bounds.maxFutureMs !== undefined && eventTime > now + bounds.maxFutureMs) {
    return `more than REORDER_EVENT_TIME_MAX_FUTURE_MS=${bounds.maxFutureMs} ahead of the processing clock ${now}`;
  }
  if (bounds.maxPastMs !== undefined && eventTime < now - bounds.maxPastMs) {
    return `more than REORDER_EVENT_TIME_MAX_PAST_MS=${bounds.maxPastMs} behind the processing clock ${now}`;
  }
  return undefined;
}

function text(headers: RecordHeaders, name: string): string | undefined {
  return headers[name]?.toString('utf8');
}

function describe(source: AttributeSource): string {
  return source.kind === 'header' ? `header:${source.name}` : source.kind === 'field' ? `field:${source.path}` : source.kind;
}

/** The stream key as text; undefined when absent or empty. Payload fields only when `usePayload`. */
function streamKeyOf(source: ReorderOptions['streamKey'], input: ReorderInput, usePayload: boolean): string | undefined {
  let value: string | undefined;
  if (source.kind === 'key') value = input.record.key?.toString('utf8');
  else if (source.kind === 'header') value = text(input.record.headers, source.name);
  else if (usePayload) {
    const v = fieldAt(input.payload, source.path);
    value = typeof v === 'string' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'bigint' ? v.toString() : undefined;
  } else value = text(input.record.headers, STREAM_HEADER);
  return value === undefined || value === '' ? undefined : value;
}

/** A safe integer from a header (decimal text) or a payload field (number or decimal text). */
function integerAt(source: { kind: 'header'; name: string } | { kind: 'field'; path: string }, input: ReorderInput): number | undefined {
  const v: unknown = source.kind === 'header' ? text(input.record.headers, source.name) : fieldAt(input.payload, source.path);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : undefined;
  if (typeof v !== 'string' || !DECIMAL.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Size estimate for the byte cap: key + value + header names and values. */
export function recordBytes(record: ConvoyRecord): number {
  let n = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) n += name.length + (value?.length ?? 0);
  return n;
}
