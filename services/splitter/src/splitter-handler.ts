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
 * - Incoming `convoy-*` headers are dropped; the original key, value, timestamp and other headers are kept.
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

    const headers: RecordHeaders = {};
    for (const [name, value] of Object.entries(record.headers)) {
      if (name.startsWith(CONVOY_HEADER_PREFIX)) counters.strippedHeaders++;
      else headers[name] = value;
    }

    const options = this.#options;
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

    const envelope: Envelope = { kind: 'data', seq: record.offset, source: this.source, eventTime: this.#eventTime(record, payload), epoch: this.#current.epoch };
    if (prev >= 0) envelope.prev = prev;

    if (options.mode === 'classify') {
      const topic = classify(options.ruleSet!, payload, options.defaultTopic!);
      output.send({ topic, key: record.key, value: record.value, headers: { ...headers, ...encodeEnvelope(envelope) }, timestamp: record.timestamp });
      increment(counters.eventsOut, topic);
      return;
    }

    const customerId = this.#customerId(record, payload);
    if (customerId === undefined) {
      this.#deadLetter(record, output, new ConvoyError(SPLITTER_MISSING_CUSTOMER_ID, `no customer ID at ${describeKeySource(options.keySource)}`));
      return;
    }
    // round-robin exists only as a baseline for measuring what customer affinity is worth.
    const substreams = this.#current.substreams;
    const substream = options.mode === 'round-robin' ? record.offset % substreams : partitionForKey(customerId, substreams);
    envelope.substream = substream;
    output.send({
      topic: options.substreamsTopic,
      partition: substream,
      key: record.key,
      value: record.value,
      headers: { ...headers, ...encodeEnvelope(envelope) },
      timestamp: record.timestamp,
    });
    increment(counters.eventsOut, options.substreamsTopic);
  }

  #customerId(record: ConvoyRecord, payload: unknown): Uint8Array | undefined {
    const source = this.#options.keySource;
    let id: Uint8Array | undefined;
    if (source.kind === 'key') id = record.key ?? undefined;
    else if (source.kind === 'header') id = record.headers[source.name];
    else id = customerIdFromValue(fieldAt(payload, source.path));
    return id === undefined || id.length === 0 ? undefined : id;
  }

  #eventTime(record: ConvoyRecord, payload: unknown): number {
    const source = this.#options.eventTimeSource;
    if (source.kind === 'timestamp') return record.timestamp;
    const raw = source.kind === 'header' ? record.headers[source.name]?.toString('utf8') : payload === NO_PAYLOAD ? undefined : fieldAt(payload, source.path);
    const eventTime = eventTimeFromValue(raw);
    if (eventTime !== undefined) return eventTime;
    this.#counters.eventTimeFallbacks++;
    return record.timestamp;
  }

  #deadLetter(record: ConvoyRecord, output: SplitterOutput, error: ConvoyError): void {
    output.send(deadLetterRecord(record, error, SPLITTER_STAGE, this.#options.dlqTopic));
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

function describeKeySource(source: KeySource): string {
  return source.kind === 'key' ? 'the record key' : source.kind === 'header' ? `header ${source.name}` : `payload field ${source.path}`;
}
