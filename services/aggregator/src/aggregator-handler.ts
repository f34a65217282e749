/**
 * The aggregator's per-partition logic as pure handlers over the Kafka port's record types: input
 * records in, output records (results, late events, dead letters, changelog) out, `now` passed in.
 * No I/O; the processing clock (`now`) is passed in, for the event-time bounds only.
 */
import { ConvoyError } from '@convoy/errors';
import { deadLetterRecord, describeSource, fitRecord, type ConvoyRecord, type OutgoingRecord, type TopicPartition } from '@convoy/kafka';
import {
  FirstAcceptDispatcher,
  windowResultKey,
  WindowedAggregator,
  type DispatchOutput,
  type DispatchOverflowPolicy,
  type DispatchSnapshot,
  type LateWindowEvent,
  type WindowAggregate,
  type WindowAssigner,
  type WindowOutput,
  type WindowOverflowPolicy,
  type WindowResult,
  type WindowSnapshot,
} from '@convoy/ordering';
import { changelogRecords } from './changelog.ts';
import {
  eventTimeOf,
  extractEventTime,
  extractKey,
  isReasonHeader,
  keyText,
  numericValue,
  outOfBounds,
  PayloadView,
  readEventTime,
  type EventTimeBounds,
  type EventTimeSource,
  type KeySource,
} from './sources.ts';

export const STAGE = 'aggregator';
export const AGGREGATOR_MISSING_KEY = 'AGGREGATOR_MISSING_KEY';
export const AGGREGATOR_UNDECODABLE = 'AGGREGATOR_UNDECODABLE';
export const AGGREGATOR_MISSING_VALUE = 'AGGREGATOR_MISSING_VALUE';
export const AGGREGATOR_MISSING_EVENT_TIME = 'AGGREGATOR_MISSING_EVENT_TIME';
/** The event-time source holds something that is no time (not integer ms, not ISO-8601). */
export const AGGREGATOR_EVENT_TIME_UNREADABLE = 'AGGREGATOR_EVENT_TIME_UNREADABLE';
/** An event time (or a watermark, or a dispatch time) outside `eventTimeBounds`. */
export const AGGREGATOR_EVENT_TIME_OUT_OF_RANGE = 'AGGREGATOR_EVENT_TIME_OUT_OF_RANGE';
export const AGGREGATOR_BAD_WATERMARK = 'AGGREGATOR_BAD_WATERMARK';
export const AGGREGATOR_BAD_ACCEPT = 'AGGREGATOR_BAD_ACCEPT';
export const AGGREGATOR_STATE_INCOMPATIBLE = 'AGGREGATOR_STATE_INCOMPATIBLE';

/** Output headers (a consumer tells an original from a correction without decoding the value). */
export const RESULT_HEADER = {
  kind: 'convoy-result-kind',
  version: 'convoy-result-version',
  dispatchKind: 'convoy-dispatch-kind',
  dispatchReason: 'convoy-dispatch-reason',
  late: 'convoy-late',
  lateReason: 'convoy-late-reason',
  lateWindows: 'convoy-late-windows',
} as const;

/** Where a unit's records go; `ProcessorOutput` satisfies it. */
export interface RecordSink {
  send(record: OutgoingRecord): void;
}

/** The JSON value of a window result record. */
export interface WindowResultValue extends WindowAggregate {
  key: string;
  windowStart: number;
  windowEnd: number;
  version: number;
  kind: WindowResult['kind'];
  previous?: WindowAggregate;
}

export type WatermarkMode = 'records' | 'bounded' | 'both';

export interface HandlerTopics {
  outputTopic: string;
  lateTopic: string;
  dlqTopic: string;
  changelogTopic: string;
  /** Largest changelog chunk (bytes of gzip'd state). */
  chunkBytes: number;
  /**
   * Event times outside these bounds are dead-lettered (`AGGREGATOR_EVENT_TIME_OUT_OF_RANGE`); a
   * watermark record is held to `maxFutureMs` only (one too far back never advances anything).
   * Default: no bounds.
   */
  eventTimeBounds?: EventTimeBounds;
  /** The largest dead letter (`recordBatchBytes`): one above it loses its value, then key, then original headers. Default: unbounded. */
  maxDeadLetterBytes?: number;
}

export interface WindowHandlerOptions extends HandlerTopics {
  key: KeySource;
  /** Dot path of the numeric value; unset: every event counts as 1. */
  valueField?: string;
  eventTime: EventTimeSource;
  windows: WindowAssigner;
  allowedLateness: number;
  maxOpenWindows: number;
  overflow: WindowOverflowPolicy;
  earlyEveryEvents?: number;
  earlyEveryMs?: number;
  watermark: WatermarkMode;
  /** Bounded mode: watermark = max event time seen − this (an event at exactly that time is still on time). */
  maxOutOfOrderMs: number;
}

/** Counters since construction (or restore) of one partition's handler. */
export interface HandlerCounters {
  dataIn: number;
  watermarksIn: number;
  /** progress / filler records, and watermark records when AGG_WATERMARK=bounded. */
  ignored: number;
  deadLettered: number;
  /** Of `deadLettered`: by error code. */
  deadLetteredByCode: Map<string, number>;
  /** Dead letters written without their value (and maybe key and headers) to fit `maxDeadLetterBytes`. */
  deadLettersTrimmed: number;
  /** Records below the restored state's input position (never expected under transactions). */
  duplicates: number;
  results: { early: number; final: number; correction: number };
  lateEvents: { 'window-retired': number; 'overflow-retired': number; 'overflow-rejected': number };
  assignments: number;
  cancellations: { 'already-assigned': number; expired: number; overloaded: number };
  dispatchDuplicates: number;
  changelogWrites: number;
}

function emptyCounters(): HandlerCounters {
  return {
    dataIn: 0,
    watermarksIn: 0,
    ignored: 0,
    deadLettered: 0,
    deadLetteredByCode: new Map(),
    deadLettersTrimmed: 0,
    duplicates: 0,
    results: { early: 0, final: 0, correction: 0 },
    lateEvents: { 'window-retired': 0, 'overflow-retired': 0, 'overflow-rejected': 0 },
    assignments: 0,
    cancellations: { 'already-assigned': 0, expired: 0, overloaded: 0 },
    dispatchDuplicates: 0,
    changelogWrites: 0,
  };
}

/** What one changelog write holds for a windows partition. */
export interface WindowPartitionState {
  format: 1;
  mode: 'windows';
  /** Next input offset this state has not seen. */
  inputNext: number | null;
  /** Number of this write (changelog id). */
  writes: number;
  /** Highest watermark read from watermark records (wire semantics: no event ≤ it follows). */
  recordWatermark: number | null;
  /** Highest event time seen (bounded mode). */
  maxEventTime: number | null;
  aggregator: WindowSnapshot;
}

/** What one changelog write holds for a dispatch partition. */
export interface DispatchPartitionState {
  format: 1;
  mode: 'dispatch';
  inputNext: number | null;
  writes: number;
  dispatcher: DispatchSnapshot;
}

function fail(code: string, message: string, context?: Record<string, unknown>): ConvoyError {
  return context === undefined ? new ConvoyError(code, message) : new ConvoyError(code, message, { context });
}

function headerText(record: ConvoyRecord, name: string): string | undefined {
  return record.headers[name]?.toString('utf8');
}

type Classified = { kind: 'data' } | { kind: 'watermark'; value: number } | { kind: 'ignored' } | { kind: 'bad'; error: ConvoyError };

/**
 * A watermark record is `convoy-kind: watermark` carrying its value in `convoy-watermark`, else
 * `convoy-event-time`, else `convoy-seq`. Its value W promises that no event with time ≤ W follows
 * (Flink's semantics, as in @convoy/ordering's watermark package).
 */
export function classifyRecord(record: ConvoyRecord): Classified {
  const kind = headerText(record, 'convoy-kind');
  if (kind === undefined || kind === 'data') return { kind: 'data' };
  if (kind === 'progress' || kind === 'filler') return { kind: 'ignored' };
  if (kind !== 'watermark') return { kind: 'bad', error: fail('ENVELOPE_MALFORMED', `convoy-kind=${JSON.stringify(kind)} is not data, progress, filler or watermark`) };
  for (const name of ['convoy-watermark', 'convoy-event-time', 'convoy-seq']) {
    const text = headerText(record, name);
    if (text === undefined) continue;
    const value = /^-?(0|[1-9][0-9]*)$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value)) return { kind: 'bad', error: fail(AGGREGATOR_BAD_WATERMARK, `${name}=${JSON.stringify(text)} is not a decimal integer`) };
    return { kind: 'watermark', value };
  }
  return { kind: 'bad', error: fail(AGGREGATOR_BAD_WATERMARK, 'a watermark record needs convoy-watermark, convoy-event-time or convoy-seq') };
}

function resultRecord(topic: string, result: WindowResult): OutgoingRecord {
  const value: WindowResultValue = {
    key: result.key,
    windowStart: result.windowStart,
    windowEnd: result.windowEnd,
    ...result.value,
    version: result.version,
    kind: result.kind,
  };
  if (result.previous !== undefined) value.previous = result.previous;
  return {
    topic,
    key: windowResultKey(result.key, result.windowStart, result.windowEnd),
    value: JSON.stringify(value),
    headers: {
      [RESULT_HEADER.kind]: Buffer.from(result.kind),
      [RESULT_HEADER.version]: Buffer.from(String(result.version)),
    },
  };
}

function lateRecord(topic: string, original: ConvoyRecord, late: LateWindowEvent): OutgoingRecord {
  return {
    topic,
    key: original.key,
    value: original.value,
    headers: {
      ...original.headers,
      [RESULT_HEADER.late]: Buffer.from('true'),
      [RESULT_HEADER.lateReason]: Buffer.from(late.rejected[0]!.reason),
      [RESULT_HEADER.lateWindows]: Buffer.from(JSON.stringify(late.rejected)),
    },
  };
}

/**
 * One input partition of windowed aggregation.
 *
 * Guarantees:
 * - Every input record leaves exactly one way: counted (possibly emitting results), routed to the
 *   late topic (events refused by a retired or overflowing window, with the reason), dead-lettered
 *   (no key, undecodable, missing value or event time, an event time
 *   unreadable or outside `eventTimeBounds`, a malformed watermark or one more than
 *   `eventTimeBounds.maxFutureMs` ahead of `now`), or ignored and counted
 *   (progress, filler, and watermark records in bounded mode).
 * - Every unit that changed state ends with one changelog write of the whole state in the same
 *   sink, after the results it produced; restoring that write continues versions exactly
 *   (`WindowedAggregator`'s snapshot guarantee), so no (window, version) is emitted twice and no
 *   open window is forgotten as long as the sink is one transaction with the input offsets.
 * - The watermark is this partition's own: records mode takes W + 1 of each watermark record
 *   (strict core semantics), bounded mode max event time − maxOutOfOrderMs, both the larger.
 */
export class WindowPartitionHandler {
  readonly #options: WindowHandlerOptions;
  readonly #input: TopicPartition;
  readonly #aggregator: WindowedAggregator;
  #inputNext: number | null;
  #writes: number;
  #recordWatermark: number | null;
  #maxEventTime: number | null;
  readonly counters = emptyCounters();

  constructor(input: TopicPartition, options: WindowHandlerOptions, restored?: WindowPartitionState) {
    this.#options = options;
    this.#input = input;
    if (restored !== undefined && (restored.format !== 1 || restored.mode !== 'windows')) {
      throw fail(AGGREGATOR_STATE_INCOMPATIBLE, `changelog state of ${input.topic}/${input.partition} is not windows state (mode ${String(restored.mode)}): use another AGG_CHANGELOG_TOPIC / AGG_GROUP_ID`);
    }
    const coreOptions = {
      windows: options.windows,
      allowedLateness: options.allowedLateness,
      maxOpenWindows: options.maxOpenWindows,
      overflow: options.overflow,
      ...(options.earlyEveryEvents === undefined ? {} : { earlyEveryEvents: options.earlyEveryEvents }),
      ...(options.earlyEveryMs === undefined ? {} : { earlyEveryMs: options.earlyEveryMs }),
    };
    try {
      this.#aggregator = new WindowedAggregator(coreOptions, restored?.aggregator);
    } catch (error) {
      throw new ConvoyError(
        AGGREGATOR_STATE_INCOMPATIBLE,
        `changelog state of ${input.topic}/${input.partition} does not fit this configuration (${(error as Error).message}); window or lateness settings changed: use another AGG_CHANGELOG_TOPIC / AGG_GROUP_ID`,
        { cause: error },
      );
    }
    this.#inputNext = restored?.inputNext ?? null;
    this.#writes = restored?.writes ?? 0;
    this.#recordWatermark = restored?.recordWatermark ?? null;
    this.#maxEventTime = restored?.maxEventTime ?? null;
  }

  /** Strict watermark of this partition: no event with time < it is on time. -Infinity before any. */
  get watermark(): number {
    return this.#aggregator.currentWatermark;
  }

  get openWindows(): number {
    return this.#aggregator.openWindowCount;
  }

  get coreStats() {
    return this.#aggregator.stats;
  }

  /** `now`: the processing clock of this unit of work (event-time bounds). */
  onRecords(records: readonly ConvoyRecord[], out: RecordSink, now: number): void {
    let changed = false;
    for (const record of records) {
      if (this.#inputNext !== null && record.offset < this.#inputNext) {
        this.counters.duplicates += 1;
        continue;
      }
      changed = true;
      this.#inputNext = record.offset + 1;
      this.#onRecord(record, out, now);
    }
    if (changed) this.#writeChangelog(out);
  }

  /** Time-based early firing; writes the changelog when it emitted anything. */
  onTick(now: number, out: RecordSink): void {
    if (this.#options.earlyEveryMs === undefined) return;
    let emitted = 0;
    this.#aggregator.onPeriodicEmit(now, this.#windowOutput(out, undefined, () => void (emitted += 1)));
    if (emitted > 0) this.#writeChangelog(out);
  }

  snapshot(): WindowPartitionState {
    return {
      format: 1,
      mode: 'windows',
      inputNext: this.#inputNext,
      writes: this.#writes,
      recordWatermark: this.#recordWatermark,
      maxEventTime: this.#maxEventTime,
      aggregator: this.#aggregator.snapshot(),
    };
  }

  #onRecord(record: ConvoyRecord, out: RecordSink, now: number): void {
    const o = this.#options;
    const classified = classifyRecord(record);
    if (classified.kind === 'bad') return deadLetter(this.counters, o, record, classified.error, out);
    if (classified.kind === 'ignored') {
      this.counters.ignored += 1;
      return;
    }
    if (classified.kind === 'watermark') {
      if (o.watermark === 'bounded') {
        this.counters.ignored += 1;
        return;
      }
      const maxFutureMs = o.eventTimeBounds?.maxFutureMs;
      if (maxFutureMs !== undefined && classified.value > now + maxFutureMs) {
        // It would fire and retire every open window and send every later event to the late topic.
        const message = `watermark ${classified.value} is more than AGG_EVENT_TIME_MAX_FUTURE_MS=${maxFutureMs} ahead of the processing clock ${now}`;
        return deadLetter(this.counters, o, record, fail(AGGREGATOR_EVENT_TIME_OUT_OF_RANGE, message, { watermark: classified.value, now }), out);
      }
      this.counters.watermarksIn += 1;
      if (this.#recordWatermark === null || classified.value > this.#recordWatermark) this.#recordWatermark = classified.value;
      this.#aggregator.onWatermark(classified.value + 1, this.#windowOutput(out, record));
      return;
    }
    const payload = new PayloadView(record);
    const needsPayload = o.key.kind === 'field' || o.eventTime.kind === 'field' || o.valueField !== undefined;
    if (needsPayload && !payload.decodable) {
      return deadLetter(this.counters, o, record, fail(AGGREGATOR_UNDECODABLE, 'the value is not JSON (needed for a field: source)'), out);
    }
    const key = extractKey(record, payload, o.key);
    if (key === undefined) return deadLetter(this.counters, o, record, fail(AGGREGATOR_MISSING_KEY, `no aggregation key at ${describeSource(o.key)}`), out);
    let value = 1;
    if (o.valueField !== undefined) {
      const found = numericValue(payload.field(o.valueField));
      if (found === undefined) return deadLetter(this.counters, o, record, fail(AGGREGATOR_MISSING_VALUE, `no finite number at field:${o.valueField}`), out);
      value = found;
    }
    const reading = readEventTime(record, payload, o.eventTime);
    if (reading.kind === 'missing') return deadLetter(this.counters, o, record, fail(AGGREGATOR_MISSING_EVENT_TIME, `no event time at ${describeSource(o.eventTime)}`), out);
    if (reading.kind === 'unreadable') {
      return deadLetter(this.counters, o, record, fail(AGGREGATOR_EVENT_TIME_UNREADABLE, `${describeSource(o.eventTime)} holds ${describeRaw(reading.raw)}, not an event time (integer ms or ISO-8601)`), out);
    }
    const eventTime = reading.ms;
    const problem = outOfBounds(eventTime, now, o.eventTimeBounds);
    if (problem !== undefined) {
      return deadLetter(this.counters, o, record, fail(AGGREGATOR_EVENT_TIME_OUT_OF_RANGE, `event time ${eventTime} at ${describeSource(o.eventTime)} is ${problem}`, { eventTime, now }), out);
    }
    this.counters.dataIn += 1;
    const output = this.#windowOutput(out, record);
    this.#aggregator.onEvent(key, eventTime, value, output);
    if (o.watermark !== 'records' && (this.#maxEventTime === null || eventTime > this.#maxEventTime)) {
      this.#maxEventTime = eventTime;
      this.#aggregator.onWatermark(eventTime - o.maxOutOfOrderMs, output);
    }
  }

  #windowOutput(out: RecordSink, record: ConvoyRecord | undefined, onResult?: () => void): WindowOutput {
    return {
      emitResult: (result) => {
        this.counters.results[result.kind] += 1;
        onResult?.();
        out.send(resultRecord(this.#options.outputTopic, result));
      },
      emitLate: (late) => {
        // Late output only ever comes from onEvent, which always has its record.
        this.counters.lateEvents[late.rejected[0]!.reason] += 1;
        out.send(lateRecord(this.#options.lateTopic, record!, late));
      },
    };
  }

  #writeChangelog(out: RecordSink): void {
    this.#writes += 1;
    this.counters.changelogWrites += 1;
    for (const record of changelogRecords(this.#options.changelogTopic, this.#input, this.#writes, this.snapshot(), this.#options.chunkBytes)) out.send(record);
  }
}

/** Sends `record`'s dead letter, fitted to `maxDeadLetterBytes`, and counts it by code. */
function deadLetter(counters: HandlerCounters, options: HandlerTopics, record: ConvoyRecord, error: ConvoyError, out: RecordSink): void {
  counters.deadLettered += 1;
  counters.deadLetteredByCode.set(error.code, (counters.deadLetteredByCode.get(error.code) ?? 0) + 1);
  const dead = deadLetterRecord(record, error, STAGE, options.dlqTopic);
  const limit = options.maxDeadLetterBytes;
  const fitted = limit === undefined ? dead : fitRecord(dead, limit, isReasonHeader);
  if (fitted !== dead) counters.deadLettersTrimmed += 1;
  out.send(fitted);
}

function describeRaw(raw: unknown): string {
  const text = typeof raw === 'string' ? JSON.stringify(raw) : typeof raw === 'object' ? Object.prototype.toString.call(raw) : String(raw);
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

export interface DispatchHandlerOptions extends HandlerTopics {
  /** Event time of an accept without an `acceptTime` field. */
  eventTime: EventTimeSource;
  retention: number;
  maxTrackedRequests: number;
  overflow: DispatchOverflowPolicy;
}

/** The JSON value of a dispatch output record (key = driverId). */
export type DispatchEventValue =
  | { type: 'assignment'; requestId: string; driverId: string; requestTime: number; acceptTime: number }
  | { type: 'cancellation'; requestId: string; driverId: string; acceptTime: number; reason: 'already-assigned' | 'expired' | 'overloaded' };

/**
 * One input partition of taxi dispatch. Input: JSON accepts `{requestId, driverId, requestTime,
 * acceptTime?}` (acceptTime defaults to the event time source); all accepts of one request must be
 * in one partition (key the input by requestId).
 *
 * Guarantees: per request at most one assignment, ever (also across restarts: the decisions are in
 * the changelog write of the same unit); every later accept by another driver gets exactly one
 * cancellation, keyed by that driver's id; the winner's repeated accept produces nothing (counted);
 * bad accepts are dead-lettered. The dispatcher's clock is the highest accept time seen (event time),
 * so a replay decides exactly as the first run did.
 */
export class DispatchPartitionHandler {
  readonly #options: DispatchHandlerOptions;
  readonly #input: TopicPartition;
  readonly #dispatcher: FirstAcceptDispatcher;
  #inputNext: number | null;
  #writes: number;
  readonly counters = emptyCounters();

  constructor(input: TopicPartition, options: DispatchHandlerOptions, restored?: DispatchPartitionState) {
    this.#options = options;
    this.#input = input;
    if (restored !== undefined && (restored.format !== 1 || restored.mode !== 'dispatch')) {
      throw fail(AGGREGATOR_STATE_INCOMPATIBLE, `changelog state of ${input.topic}/${input.partition} is not dispatch state (mode ${String(restored.mode)}): use another AGG_CHANGELOG_TOPIC / AGG_GROUP_ID`);
    }
    try {
      this.#dispatcher = new FirstAcceptDispatcher(
        { retention: options.retention, maxTrackedRequests: options.maxTrackedRequests, overflow: options.overflow },
        restored?.dispatcher,
      );
    } catch (error) {
      throw new ConvoyError(AGGREGATOR_STATE_INCOMPATIBLE, `changelog state of ${input.topic}/${input.partition} does not fit this configuration (${(error as Error).message})`, { cause: error });
    }
    this.#inputNext = restored?.inputNext ?? null;
    this.#writes = restored?.writes ?? 0;
  }

  get trackedRequests(): number {
    return this.#dispatcher.trackedRequests;
  }

  /** `now`: the processing clock of this unit of work (event-time bounds). */
  onRecords(records: readonly ConvoyRecord[], out: RecordSink, now: number): void {
    let changed = false;
    for (const record of records) {
      if (this.#inputNext !== null && record.offset < this.#inputNext) {
        this.counters.duplicates += 1;
        continue;
      }
      changed = true;
      this.#inputNext = record.offset + 1;
      this.#onRecord(record, out, now);
    }
    if (changed) {
      this.#writes += 1;
      this.counters.changelogWrites += 1;
      for (const r of changelogRecords(this.#options.changelogTopic, this.#input, this.#writes, this.snapshot(), this.#options.chunkBytes)) out.send(r);
    }
  }

  snapshot(): DispatchPartitionState {
    return { format: 1, mode: 'dispatch', inputNext: this.#inputNext, writes: this.#writes, dispatcher: this.#dispatcher.snapshot() };
  }

  #onRecord(record: ConvoyRecord, out: RecordSink, now: number): void {
    const o = this.#options;
    const classified = classifyRecord(record);
    if (classified.kind === 'bad') return deadLetter(this.counters, o, record, classified.error, out);
    if (classified.kind !== 'data') {
      this.counters.ignored += 1;
      return;
    }
    const payload = new PayloadView(record);
    if (!payload.decodable) return deadLetter(this.counters, o, record, fail(AGGREGATOR_UNDECODABLE, 'the accept is not JSON'), out);
    const requestId = keyText(payload.field('requestId'));
    const driverId = keyText(payload.field('driverId'));
    const requestTime = eventTimeOf(payload.field('requestTime'));
    const acceptTime = eventTimeOf(payload.field('acceptTime')) ?? extractEventTime(record, payload, this.#options.eventTime);
    if (requestId === undefined || driverId === undefined || requestTime === undefined || acceptTime === undefined) {
      const missing = [
        requestId === undefined ? 'requestId' : '',
        driverId === undefined ? 'driverId' : '',
        requestTime === undefined ? 'requestTime' : '',
        acceptTime === undefined ? 'acceptTime' : '',
      ].filter((s) => s !== '');
      return deadLetter(this.counters, o, record, fail(AGGREGATOR_BAD_ACCEPT, `the accept lacks ${missing.join(', ')}`), out);
    }
    // The dispatcher's clock is the highest accept time: one far ahead would expire every tracked request.
    for (const [name, ms] of [['requestTime', requestTime], ['acceptTime', acceptTime]] as const) {
      const problem = outOfBounds(ms, now, o.eventTimeBounds);
      if (problem !== undefined) {
        return deadLetter(this.counters, o, record, fail(AGGREGATOR_EVENT_TIME_OUT_OF_RANGE, `${name} ${ms} is ${problem}`, { [name]: ms, now }), out);
      }
    }
    this.counters.dataIn += 1;
    const output: DispatchOutput = {
      emitAssignment: (a) => {
        this.counters.assignments += 1;
        this.#send(out, { type: 'assignment', requestId: a.requestId, driverId: a.driverId, requestTime: a.requestTime, acceptTime: a.acceptTime });
      },
      emitCancellation: (c) => {
        this.counters.cancellations[c.reason] += 1;
        this.#send(out, { type: 'cancellation', requestId: c.requestId, driverId: c.driverId, acceptTime: c.acceptTime, reason: c.reason });
      },
    };
    const disposition = this.#dispatcher.onAccept({ requestId, driverId, requestTime, acceptTime }, acceptTime, output);
    if (disposition === 'duplicate') this.counters.dispatchDuplicates += 1;
  }

  #send(out: RecordSink, value: DispatchEventValue): void {
    const headers: Record<string, Buffer> = { [RESULT_HEADER.dispatchKind]: Buffer.from(value.type) };
    if (value.type === 'cancellation') headers[RESULT_HEADER.dispatchReason] = Buffer.from(value.reason);
    out.send({ topic: this.#options.outputTopic, key: value.driverId, value: JSON.stringify(value), headers });
  }
}
