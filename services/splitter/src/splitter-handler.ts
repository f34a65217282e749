/**
 * The splitter's logic for one source partition: records in, records out, with `now` passed in.
 * No I/O here; the shell runs it on the transactional partition processor, which commits every
 * record handed to the output together with the input offsets.
 */
import { CODEC_DECODE_FAILED, fieldAt } from '@convoy/codecs';
import { ConvoyError, isConvoyError, isRetriable } from '@convoy/errors';
import {
  CONVOY_HEADER_PREFIX,
  deadLetterRecord,
  encodeEnvelope,
  fitRecord,
  recordBatchBytes,
  partitionForKey,
  type ConvoyRecord,
  type Envelope,
  type OutgoingRecord,
  type PartitionHandler,
  type ProcessorOutput,
  type RecordHeaders,
  type TopicPartition,
} from '@convoy/kafka';
import { classify, type RuleSet } from './classify.ts';
import { stateRecord, type RoutingEpoch, type RoutingState } from './routing-state.ts';
import {
  customerIdFromValue,
  eventTimeFromValue,
  type EventTimeSource,
  type KeySource,
} from './sources.ts';

export const SPLITTER_STAGE = 'splitter';
export const SPLITTER_MISSING_CUSTOMER_ID = 'SPLITTER_MISSING_CUSTOMER_ID';
export const SPLITTER_VALUE_TOO_LARGE = 'SPLITTER_VALUE_TOO_LARGE';
/** The data record (key + value + headers + envelope) would not fit the next hop's `max.message.bytes`. */
export const SPLITTER_RECORD_TOO_LARGE = 'SPLITTER_RECORD_TOO_LARGE';
/** The record has a null value (a tombstone): no event. */
export const SPLITTER_NULL_VALUE = 'SPLITTER_NULL_VALUE';
/** The input carries Convoy envelope or stage headers (`convoy-*` other than `convoy-error-*`). */
export const SPLITTER_SPOOFED_CONVOY_HEADER = 'SPLITTER_SPOOFED_CONVOY_HEADER';
/** A header the splitter must read (customer ID or event time) is not valid UTF-8. */
export const SPLITTER_MALFORMED_HEADER = 'SPLITTER_MALFORMED_HEADER';
/** The event-time source is present but holds no time (not ms, not ISO-8601, NaN, an object...). */
export const SPLITTER_EVENT_TIME_UNREADABLE = 'SPLITTER_EVENT_TIME_UNREADABLE';
/** The event time lies outside the configured bounds. */
export const SPLITTER_EVENT_TIME_OUT_OF_RANGE = 'SPLITTER_EVENT_TIME_OUT_OF_RANGE';

/** Prefix of the dead-letter reason headers: on input they are stripped, never a reason to dead-letter (a fixed dead letter may be replayed). */
const REASON_HEADER_PREFIX = 'convoy-error-';

/**
 * Bounds on a record's event time (ms since the epoch), checked whatever its source. Each bound is
 * optional; a record outside any of them is dead-lettered with `SPLITTER_EVENT_TIME_OUT_OF_RANGE`.
 */
export interface EventTimeBounds {
  /** Earliest accepted event time, absolute. */
  readonly min?: number;
  /** Latest accepted event time: this far ahead of the processing clock (`now`). */
  readonly maxFutureMs?: number;
  /** Earliest accepted event time: this far behind the processing clock (`now`). */
  readonly maxPastMs?: number;
}

/**
 * Decodes a payload (SR framed or plain JSON). May be async (schema lookups). A retriable error
 * (registry unreachable) is rethrown by the splitter so the batch is retried; any other error
 * dead-letters the record.
 */
export type PayloadDecoder = (value: Buffer) => unknown;

export type SplitterMode = 'hash' | 'round-robin' | 'classify';

export interface SplitterOptions {
  readonly mode: SplitterMode;
  /** Hash mode: the sub-stream topic, whose partition count must equal `substreams`. */
  readonly substreamsTopic: string;
  readonly substreams: number;
  /** Epoch of a source partition without stored routing state. */
  readonly epoch: number;
  /**
   * Hash and round-robin modes: the compacted topic holding each source partition's routing state
   * (partition = source partition). Set: the sub-stream count may change between incarnations
   * (rescaling, see `SourcePartitionSplitter`). Unset: `epoch` and `substreams` are used as they are.
   */
  readonly stateTopic?: string;
  readonly dlqTopic: string;
  readonly keySource: KeySource;
  readonly eventTimeSource: EventTimeSource;
  /** A value longer than this many bytes is dead-lettered. */
  readonly maxValueBytes: number;
  /** Markers for a partition whose seq moved are written at most this long after the last ones. */
  readonly markerIntervalMs: number;
  /** Markers are written after every this many records of a partition (dead-lettered included). */
  readonly markerEveryEvents: number;
  /** An idle partition (seq unchanged) re-sends its markers this often. */
  readonly markerIdleIntervalMs: number;
  /**
   * An input record carrying `convoy-*` headers other than the dead-letter reason headers:
   * `dead-letter` it (`SPLITTER_SPOOFED_CONVOY_HEADER`), or `strip` them and pass it on. Default `strip`.
   * Either way no input header is ever read as Convoy metadata.
   */
  readonly convoyHeadersOnInput?: 'dead-letter' | 'strip';
  /**
   * A record with a null value (a tombstone): `dead-letter` it (`SPLITTER_NULL_VALUE`), or `pass` it on
   * like any record (a null value whose attributes live in the payload is then dead-lettered for
   * those). Default `pass`.
   */
  readonly nullValues?: 'dead-letter' | 'pass';
  /** Default: no bounds. */
  readonly eventTimeBounds?: EventTimeBounds;
  /**
   * The largest record (as `recordBatchBytes` counts it) the splitter writes: a data record above it
   * is dead-lettered (`SPLITTER_RECORD_TOO_LARGE`); a dead letter above it loses its value, then its
   * key, then its original headers (`fitRecord`). Default: unbounded.
   */
  readonly maxRecordBytes?: number;
  /** Classification mode. */
  readonly ruleSet?: RuleSet;
  readonly defaultTopic?: string;
  readonly decode: PayloadDecoder;
}

/** Where the splitter's records go; the transactional processor's sink fits. Order of `send` calls is kept per partition. */
export interface SplitterOutput {
  send(record: OutgoingRecord): void;
}

/** Cumulative counts over every partition of one splitter; the shell exports them as metrics. */
export interface SplitterCounters {
  eventsIn: number;
  /** Data records written, by destination topic. */
  readonly eventsOut: Map<string, number>;
  markersWritten: number;
  /** Of `markersWritten`: closing markers of a replaced epoch (at the switch, and re-announced after each assignment). */
  closingMarkersWritten: number;
  /** Routing epochs started (sub-stream count changes), over all partitions. */
  epochSwitches: number;
  /** Routing state records written. */
  stateRecordsWritten: number;
  /** Dead-lettered records, by error code. */
  readonly deadLettered: Map<string, number>;
  /** Dead letters that had to leave out their value (and maybe key and headers) to fit `maxRecordBytes`. */
  deadLettersTrimmed: number;
  strippedHeaders: number;
  /** Records whose configured event-time source was missing or unreadable: they carry the record timestamp instead. */
  eventTimeFallbacks: number;
}

export function createCounters(): SplitterCounters {
  return {
    eventsIn: 0,
    eventsOut: new Map(),
    markersWritten: 0,
    closingMarkersWritten: 0,
    epochSwitches: 0,
    stateRecordsWritten: 0,
    deadLettered: new Map(),
    deadLettersTrimmed: 0,
    strippedHeaders: 0,
    eventTimeFallbacks: 0,
  };
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

const NO_PAYLOAD = Symbol('no payload');

/**
 * Splits one source partition.
 *
 * Guarantees:
 * - Every input record leaves exactly once, in the same transaction as its offset: as one data
 *   record (sub-stream `murmur2(customer ID) mod N`, or the topic its rules pick) or as one dead
 *   letter. Nothing is buffered across calls.
 * - `seq` = the record's offset; `prev` = the offset of the record this instance processed before
 *   it (dead-lettered ones included), or `offset - 1` for the first record after assignment. That
 *   equals `committed offset - 1` whenever consumption resumes at the committed offset (the
 *   processor commits `lastOffset + 1`); when the first record lies beyond it (transaction markers,
 *   compaction, or a fenced previous owner's late commit), `offset - 1` is the safe choice: a `prev`
 *   may point too high (a marker then resolves the gap) but never below a record already emitted.
 *   `prev` is omitted when it would be negative.
 * - Markers claim only what is committed: after assignment S starts at `committed offset - 1`.
 * - No incoming `convoy-*` header is ever read: a record carrying them is dead-lettered or stripped of
 *   them (`convoyHeadersOnInput`); the original key, value, timestamp and other headers are kept.
 * - Hostile input (docs/hostile-input.md) becomes a dead letter with a stable code, never an
 *   exception: only a retriable decode failure is rethrown. No data record or dead letter exceeds `maxRecordBytes`.
 * - Hash mode: after the data, a progress marker (`seq` = S, the last offset processed) goes into
 *   every sub-stream partition whenever `markerEveryEvents` records have been processed since the
 *   last markers, at the end of a call or on a tick once `markerIntervalMs` has passed with S moved,
 *   and on a tick every `markerIdleIntervalMs` even when S did not move.
 * - Rescaling (`stateTopic` set, hash and round-robin modes): the partition routes with its stored
 *   routing state (epoch e, start, N sub-streams). When the configured count M differs, epoch e+1
 *   begins at B = the first seq this instance processes (the committed offset): at the start of the
 *   first unit of work, before any data of epoch e+1, it writes a closing round of epoch e (a marker
 *   "up to B − 1" into each of the N old sub-streams), then the new state record; records from B on
 *   go to `murmur2 mod M` with epoch e+1, and every marker of epoch e+1 carries `epochStart` B. All
 *   of it is in the unit's transaction, so a crash before its commit leaves the old state and the
 *   same B for the next incarnation. An epoch always owns at least one seq: if nothing was processed
 *   since the current epoch began (B ≤ its start), the switch waits for the first unit after one
 *   record. Without stored state the configured epoch and count are stored at the first unit.
 *   After every assignment the closing round of the replaced epoch is re-announced once (markers
 *   are idempotent; it recovers a round cut off by a crash of a downstream stage).
 */
export class SourcePartitionSplitter {
  readonly source: TopicPartition;
  readonly #options: SplitterOptions;
  readonly #counters: SplitterCounters;
  readonly #needsPayload: boolean;
  /** Offset of the last record processed (or committed before assignment): the S of the next markers. */
  #lastSeq: number | undefined;
  /** Whether a record was processed since assignment, i.e. `#lastSeq` is the next record's `prev`. */
  #linked = false;
  #lastMarkerSeq = Number.NEGATIVE_INFINITY;
  #lastMarkerAt = Number.NEGATIVE_INFINITY;
  #sinceMarker = 0;
  /** The processing clock of the unit of work in progress (event-time bounds). */
  #now = 0;
  #current: RoutingEpoch;
  #previous: RoutingEpoch | undefined;
  /** Routing-state work due at the start of the next unit of work. */
  #due: 'nothing' | 'store-initial' | 'announce-closing' | 'switch';

  /**
   * `committedOffset` is the group's committed offset for the partition at assignment, when there is
   * one; `stored` its routing state read from `options.stateTopic` (undefined: none stored).
   */
  constructor(options: SplitterOptions, source: TopicPartition, committedOffset: number | undefined, counters: SplitterCounters, stored?: RoutingState) {
    this.#options = options;
    this.source = source;
    this.#counters = counters;
    this.#lastSeq = committedOffset === undefined ? undefined : committedOffset - 1;
    this.#needsPayload = options.mode === 'classify' || options.keySource.kind === 'field' || options.eventTimeSource.kind === 'field';
    const configured: RoutingEpoch = { epoch: options.epoch, substreams: options.substreams };
    if (options.stateTopic === undefined || options.mode === 'classify') {
      this.#current = configured;
      this.#due = 'nothing';
    } else if (stored === undefined) {
      this.#current = configured;
      this.#due = 'store-initial';
    } else {
      this.#current = stored.current;
      this.#previous = stored.previous;
      this.#due = stored.current.substreams !== options.substreams ? 'switch' : stored.previous !== undefined ? 'announce-closing' : 'nothing';
    }
  }

  /** The epoch records are routed with now, and the one it replaced. */
  get routing(): RoutingState {
    return this.#previous === undefined ? { current: this.#current } : { current: this.#current, previous: this.#previous };
  }

  /** Offset of the last record processed (S of the next marker), or undefined before any. */
  get lastSeq(): number | undefined {
    return this.#lastSeq;
  }

  async onRecords(records: readonly ConvoyRecord[], output: SplitterOutput, now: number): Promise<void> {
    this.#now = now;
    this.#beginUnit(output, now, records[0]?.offset);
    for (const record of records) {
      await this.#split(record, output);
      if (this.#options.mode !== 'classify' && this.#sinceMarker >= this.#options.markerEveryEvents) this.#writeMarkers(output, now);
    }
    if (this.#dueForInterval(now)) this.#writeMarkers(output, now);
  }

  onTick(output: SplitterOutput, now: number): void {
    this.#beginUnit(output, now, undefined);
    if (this.#dueForInterval(now) || (this.#options.mode !== 'classify' && now - this.#lastMarkerAt >= this.#options.markerIdleIntervalMs)) {
      this.#writeMarkers(output, now);
    }
  }

  /** Routing-state work, before any record of the unit: storing, re-announcing or switching the epoch. */
  #beginUnit(output: SplitterOutput, now: number, firstOffset: number | undefined): void {
    const stateTopic = this.#options.stateTopic as string;
    switch (this.#due) {
      case 'nothing':
        return;
      case 'store-initial':
        this.#storeState(output, stateTopic, now);
        break;
      case 'announce-closing': {
        const previous = this.#previous as RoutingEpoch;
        this.#closingRound(output, previous, (this.#current.start as number) - 1, now);
        break;
      }
      case 'switch': {
        const boundary = this.#lastSeq !== undefined ? this.#lastSeq + 1 : firstOffset;
        if (boundary === undefined) return;
        // The current epoch must own at least one seq: two epochs never share a start.
        if (this.#current.start !== undefined && boundary <= this.#current.start) return;
        this.#closingRound(output, this.#current, boundary - 1, now);
        this.#previous = this.#current;
        this.#current = { epoch: this.#current.epoch + 1, start: boundary, substreams: this.#options.substreams };
        this.#storeState(output, stateTopic, now);
        this.#counters.epochSwitches++;
        // Announce the new epoch on the next tick.
        this.#lastMarkerAt = Number.NEGATIVE_INFINITY;
        break;
      }
    }
    this.#due = 'nothing';
  }

  #storeState(output: SplitterOutput, stateTopic: string, now: number): void {
    output.send(stateRecord(stateTopic, this.source, this.routing, now));
    this.#counters.stateRecordsWritten++;
  }

  /** "Every record of this source up to `upTo` routed in `epoch` was written": one marker per sub-stream of that epoch. */
  #closingRound(output: SplitterOutput, epoch: RoutingEpoch, upTo: number, now: number): void {
    if (upTo < 0) return;
    this.#markerRound(output, epoch, upTo, now);
    this.#counters.closingMarkersWritten += epoch.substreams;
  }

  #markerRound(output: SplitterOutput, routing: RoutingEpoch, seq: number, now: number): void {
    const { substreams, epoch } = routing;
    for (let substream = 0; substream < substreams; substream++) {
      const envelope: Envelope = { kind: 'progress', seq, source: this.source, substream, epoch, substreams };
      if (routing.start !== undefined) envelope.epochStart = routing.start;
      output.send({
        topic: this.#options.substreamsTopic,
        partition: substream,
        key: null,
        value: null,
        headers: encodeEnvelope(envelope),
        timestamp: now,
      });
    }
    this.#counters.markersWritten += substreams;
  }

  #dueForInterval(now: number): boolean {
    return (
      this.#options.mode !== 'classify' &&
      this.#lastSeq !== undefined &&
      this.#lastSeq !== this.#lastMarkerSeq &&
      now - this.#lastMarkerAt >= this.#options.markerIntervalMs
    );
  }

  async #split(record: ConvoyRecord, output: SplitterOutput): Promise<void> {
    const counters = this.#counters;
    counters.eventsIn++;
    const prev = this.#linked ? this.#lastSeq! : record.offset - 1;
    this.#lastSeq = record.offset;
    this.#linked = true;
    this.#sinceMarker++;

    const options = this.#options;
    const headers: RecordHeaders = {};
    const spoofed: string[] = [];
    let stripped = 0;
    for (const [name, value] of Object.entries(record.headers)) {
      if (!name.startsWith(CONVOY_HEADER_PREFIX)) headers[name] = value;
      else {
        stripped++;
        if (!name.startsWith(REASON_HEADER_PREFIX)) spoofed.push(name);
      }
    }
    if (spoofed.length > 0 && options.convoyHeadersOnInput === 'dead-letter') {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_SPOOFED_CONVOY_HEADER, `input carries Convoy header(s) ${spoofed.join(', ')}; input headers are never trusted as Convoy metadata`));
      return;
    }
    counters.strippedHeaders += stripped;

    if (record.value === null && options.nullValues === 'dead-letter') {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_NULL_VALUE, 'record has a null value (a tombstone), not an event'));
      return;
    }
    if (record.value !== null && record.value.length > options.maxValueBytes) {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_VALUE_TOO_LARGE, `value is ${record.value.length} bytes, more than SPLITTER_MAX_VALUE_BYTES=${options.maxValueBytes}`));
      return;
    }

    let payload: unknown = NO_PAYLOAD;
    if (this.#needsPayload) {
      if (record.value === null) {
        if (options.mode === 'classify' || options.keySource.kind === 'field') {
          this.#deadLetter(record, output, new ConvoyError(options.mode === 'classify' ? CODEC_DECODE_FAILED : SPLITTER_MISSING_CUSTOMER_ID, 'record has no value to read attributes from'));
          return;
        }
      } else {
        try {
          payload = await options.decode(record.value);
        } catch (error) {
          if (isRetriable(error)) throw error;
          this.#deadLetter(record, output, isConvoyError(error) ? error : new ConvoyError(CODEC_DECODE_FAILED, `payload does not decode: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
          return;
        }
      }
    }

    const eventTime = this.#eventTime(record, payload);
    if (eventTime instanceof ConvoyError) {
      this.#deadLetter(record, output, eventTime);
      return;
    }
    const envelope: Envelope = { kind: 'data', seq: record.offset, source: this.source, eventTime, epoch: this.#current.epoch };
    if (prev >= 0) envelope.prev = prev;

    if (options.mode === 'classify') {
      const topic = classify(options.ruleSet!, payload, options.defaultTopic!);
      this.#sendData(record, output, { topic, key: record.key, value: record.value, headers: { ...headers, ...encodeEnvelope(envelope) }, timestamp: record.timestamp });
      return;
    }

    const customerId = this.#customerId(record, payload);
    if (customerId instanceof ConvoyError) {
      this.#deadLetter(record, output, customerId);
      return;
    }
    if (customerId === undefined) {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_MISSING_CUSTOMER_ID, `no customer ID at ${describeKeySource(options.keySource)}`));
      return;
    }
    // round-robin exists only as a baseline for measuring what customer affinity is worth.
    const substreams = this.#current.substreams;
    const substream = options.mode === 'round-robin' ? record.offset % substreams : partitionForKey(customerId, substreams);
    envelope.substream = substream;
    this.#sendData(record, output, {
      topic: options.substreamsTopic,
      partition: substream,
      key: record.key,
      value: record.value,
      headers: { ...headers, ...encodeEnvelope(envelope) },
      timestamp: record.timestamp,
    });
  }

  #sendData(record: ConvoyRecord, output: SplitterOutput, data: OutgoingRecord): void {
    const limit = this.#options.maxRecordBytes;
    const size = limit === undefined ? 0 : recordBatchBytes(data);
    if (limit !== undefined && size > limit) {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_RECORD_TOO_LARGE, `the data record would take ${size} bytes (key, value and headers), more than SPLITTER_MAX_RECORD_BYTES=${limit}`));
      return;
    }
    output.send(data);
    increment(this.#counters.eventsOut, data.topic);
  }

  /** The customer ID bytes; undefined when missing or empty; an error for a header that is not UTF-8 text. */
  #customerId(record: ConvoyRecord, payload: unknown): Uint8Array | ConvoyError | undefined {
    const source = this.#options.keySource;
    let id: Uint8Array | undefined;
    if (source.kind === 'key') id = record.key ?? undefined;
    else if (source.kind === 'header') {
      id = record.headers[source.name];
      if (id !== undefined && utf8(id) === undefined) return malformedHeader(source.name, id);
    } else id = customerIdFromValue(fieldAt(payload, source.path));
    return id === undefined || id.length === 0 ? undefined : id;
  }

  /**
   * The event time, or why the record is dead-lettered. A missing header or field falls back to the
   * record timestamp (counted); one that is present but holds no time is an error, as is any time
   * outside the bounds (the record timestamp included).
   */
  #eventTime(record: ConvoyRecord, payload: unknown): number | ConvoyError {
    const source = this.#options.eventTimeSource;
    let eventTime: number | undefined;
    let from: string;
    if (source.kind === 'timestamp') {
      eventTime = record.timestamp;
      from = 'the record timestamp';
    } else {
      let raw: unknown;
      if (source.kind === 'header') {
        const bytes = record.headers[source.name];
        from = `header ${source.name}`;
        if (bytes !== undefined) {
          raw = utf8(bytes);
          if (raw === undefined) return malformedHeader(source.name, bytes);
        }
      } else {
        from = `payload field ${source.path}`;
        raw = payload === NO_PAYLOAD ? undefined : fieldAt(payload, source.path);
      }
      if (raw === undefined || raw === null) {
        this.#counters.eventTimeFallbacks++;
        eventTime = record.timestamp;
        from = 'the record timestamp';
      } else {
        eventTime = eventTimeFromValue(raw);
        if (eventTime === undefined) {
          return new ConvoyError(SPLITTER_EVENT_TIME_UNREADABLE, `${from} holds ${describeRaw(raw)}, not an event time (ms since the epoch or ISO-8601)`);
        }
      }
    }
    const problem = this.#outOfBounds(eventTime);
    return problem === undefined ? eventTime : new ConvoyError(SPLITTER_EVENT_TIME_OUT_OF_RANGE, `event time ${eventTime} (${isoOf(eventTime)}) from ${from} is ${problem}`);
  }

  #outOfBounds(eventTime: number): string | undefined {
    const bounds = this.#options.eventTimeBounds;
    if (bounds === undefined) return undefined;
    const now = this.#now;
    if (bounds.min !== undefined && eventTime < bounds.min) return `before SPLITTER_EVENT_TIME_MIN=${bounds.min} (${isoOf(bounds.min)})`;
    if (bounds.maxFutureMs !== undefined && eventTime > now + bounds.maxFutureMs) {
      return `more than SPLITTER_EVENT_TIME_MAX_FUTURE_MS=${bounds.maxFutureMs} ahead of the processing clock ${now}`;
    }
    if (bounds.maxPastMs !== undefined && eventTime < now - bounds.maxPastMs) {
      return `more than SPLITTER_EVENT_TIME_MAX_PAST_MS=${bounds.maxPastMs} behind the processing clock ${now}`;
    }
    return undefined;
  }

  #deadLetter(record: ConvoyRecord, output: SplitterOutput, error: ConvoyError): void {
    const dead = deadLetterRecord(record, error, SPLITTER_STAGE, this.#options.dlqTopic);
    const limit = this.#options.maxRecordBytes;
    const fitted = limit === undefined ? dead : fitRecord(dead, limit, isReasonHeader);
    if (fitted !== dead) this.#counters.deadLettersTrimmed++;
    output.send(fitted);
    increment(this.#counters.deadLettered, error.code);
  }

  #writeMarkers(output: SplitterOutput, now: number): void {
    const seq = this.#lastSeq;
    if (seq === undefined || seq < 0) return;
    this.#markerRound(output, this.#current, seq, now);
    this.#lastMarkerSeq = seq;
    this.#lastMarkerAt = now;
    this.#sinceMarker = 0;
  }
}

/** The group's committed offset of a source partition at assignment (undefined: none). The shell reads it from Kafka. */
export type CommittedOffsetLookup = (partition: TopicPartition) => number | undefined | Promise<number | undefined>;

/** The stored routing state of a source partition at assignment (undefined: none). The shell reads it from the state topic. */
export type RoutingStateLookup = (partition: TopicPartition) => RoutingState | undefined | Promise<RoutingState | undefined>;

/**
 * The splitter as the transactional partition processor's handler: one `SourcePartitionSplitter`
 * per assigned source partition, rebuilt on every assignment from the committed offset, so a
 * replay after a crash or a rebalance stamps the same seq and a `prev` never below an emitted record.
 * It holds no input back: the processor's `batch-end` commit mode fits.
 */
export class SplitterHandler implements PartitionHandler {
  readonly counters: SplitterCounters;
  readonly #options: SplitterOptions;
  readonly #committedOffset: CommittedOffsetLookup;
  readonly #routingState: RoutingStateLookup;
  readonly #partitions = new Map<string, SourcePartitionSplitter>();

  constructor(
    options: SplitterOptions,
    committedOffset: CommittedOffsetLookup,
    counters: SplitterCounters = createCounters(),
    routingState: RoutingStateLookup = () => undefined,
  ) {
    this.#options = options;
    this.#committedOffset = committedOffset;
    this.#routingState = routingState;
    this.counters = counters;
  }

  /** The splitter of an assigned partition (for tests and diagnostics). */
  partition(tp: TopicPartition): SourcePartitionSplitter | undefined {
    return this.#partitions.get(`${tp.topic}/${tp.partition}`);
  }

  async onAssigned(tp: TopicPartition): Promise<void> {
    const committed = await this.#committedOffset(tp);
    const tracked = this.#options.stateTopic !== undefined && this.#options.mode !== 'classify';
    const stored = tracked ? await this.#routingState(tp) : undefined;
    this.#partitions.set(`${tp.topic}/${tp.partition}`, new SourcePartitionSplitter(this.#options, tp, committed, this.counters, stored));
  }

  onRecords(tp: TopicPartition, records: readonly ConvoyRecord[], out: ProcessorOutput, now: number): Promise<void> {
    return this.#splitterOf(tp).onRecords(records, out, now);
  }

  onTick(tp: TopicPartition, out: ProcessorOutput, now: number): void {
    this.#partitions.get(`${tp.topic}/${tp.partition}`)?.onTick(out, now);
  }

  onRevoked(tp: TopicPartition): void {
    this.#partitions.delete(`${tp.topic}/${tp.partition}`);
  }

  #splitterOf(tp: TopicPartition): SourcePartitionSplitter {
    const key = `${tp.topic}/${tp.partition}`;
    let splitter = this.#partitions.get(key);
    if (splitter === undefined) {
      // Without its stored routing state a partition could route with the wrong sub-stream count.
      if (this.#options.stateTopic !== undefined && this.#options.mode !== 'classify') {
        throw new ConvoyError('SPLITTER_NOT_ASSIGNED', `records for ${key} before its assignment`);
      }
      this.#partitions.set(key, (splitter = new SourcePartitionSplitter(this.#options, tp, undefined, this.counters)));
    }
    return splitter;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text, or undefined when they are not valid UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function malformedHeader(name: string, bytes: Uint8Array): ConvoyError {
  const shown = Buffer.from(bytes.subarray(0, 32)).toString('hex');
  return new ConvoyError(SPLITTER_MALFORMED_HEADER, `header ${name} is not valid UTF-8 (bytes ${shown}${bytes.length > 32 ? '...' : ''})`);
}

function isReasonHeader(name: string): boolean {
  return name.startsWith(REASON_HEADER_PREFIX) || name.startsWith('__connect.errors.') || name.startsWith('kafka_dlt-');
}

function describeRaw(raw: unknown): string {
  const text = typeof raw === 'string' ? JSON.stringify(raw) : typeof raw === 'object' ? Object.prototype.toString.call(raw) : String(raw);
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

function isoOf(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : 'beyond the Date range';
}

function describeKeySource(source: KeySource): string {
  return source.kind === 'key' ? 'the record key' : source.kind === 'header' ? `header ${source.name}` : `payload field ${source.path}`;
}
