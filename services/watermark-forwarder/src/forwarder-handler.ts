import { ConvoyError, isConvoyError } from '@convoy/errors';
import { deadLetterRecord, decodeEnvelope, encodeEnvelope, fitRecord, partitionId, type ConvoyRecord, type OutgoingRecord, type TopicPartition } from '@convoy/kafka';
import { WatermarkTracker, type WatermarkOutput } from '@convoy/ordering';

export const WMF_WATERMARK_WRONG_CLOCK = 'WMF_WATERMARK_WRONG_CLOCK';
/** Time clock: a watermark more than `maxFutureMs` ahead of the processing clock. */
export const WMF_EVENT_TIME_OUT_OF_RANGE = 'WMF_EVENT_TIME_OUT_OF_RANGE';
export const STAGE = 'watermark-forwarder';

export type WatermarkClock = 'time' | 'logical';

/** Where one unit of work's records go (the partition processor's transactional output). */
export interface RecordSink {
  send(record: OutgoingRecord): void;
}

export interface ForwarderOptions {
  /** Every input partition the combined watermark is the minimum over (all of them, not only the assigned ones). */
  inputs: readonly TopicPartition[];
  outputTopic: string;
  outputPartitions: number;
  dlqTopic: string;
  /** Which envelope field carries the watermark: `convoy-event-time` (time) or `convoy-seq` (logical). */
  clock: WatermarkClock;
  /** Quiet time after which an input is *reported* quiet (never excluded for it). */
  idleTimeoutMs: number;
  /**
   * How long an input must stay at its end offset, with no record arriving, before it is excluded.
   * 0 = at once. A grace longer than the generator's interval keeps inputs that get periodic
   * watermarks in the minimum, so only partitions nobody writes to are excluded.
   */
  caughtUpAfterMs: number;
  now: number;
  /** The highest watermark already on the output (recovered after a restart); nothing at or below it is emitted again. */
  floor?: number;
  /**
   * Time clock: a watermark more than this far ahead of the processing clock (`now` of its unit) is
   * dead-lettered (`WMF_EVENT_TIME_OUT_OF_RANGE`). Once written, a watermark is the floor for good,
   * so one far-future value would end every later emission. Default: no bound.
   */
  maxFutureMs?: number;
  /** The largest dead letter (`recordBatchBytes`): one above it loses its value, then key, then original headers. Default: unbounded. */
  maxDeadLetterBytes?: number;
}

export interface ForwarderCounters {
  forwarded: number;
  watermarksIn: number;
  deadLettered: number;
  /** Of `deadLettered`: by error code. */
  readonly deadLetteredByCode: Map<string, number>;
  /** Dead letters written without their value (and maybe key and headers) to fit `maxDeadLetterBytes`. */
  deadLettersTrimmed: number;
  caughtUpMarks: number;
}

export interface InputLag {
  readonly input: string;
  readonly watermark: number;
  readonly lag: number;
}

interface InputState {
  /** Watermark read in a unit whose transaction may still be open: applied at the partition's next unit. */
  staged: number | undefined;
  /** Next offset to consume (from records and the committed offset), undefined when unknown. */
  position: number | undefined;
  caughtUp: boolean;
  /** Since when the position has been seen at the end offset with no record arriving. */
  atEndSince: number | undefined;
}

/**
 * The forwarder's logic over several input partitions, without I/O.
 *
 * Guarantees:
 * - Every input record leaves exactly one way: a data record (any kind but watermark, or no
 *   envelope) is forwarded unchanged to the output topic (partition by its key, murmur2; a null key
 *   keeps `input partition mod output partitions`); a watermark is consumed into the tracker; a
 *   malformed record, a watermark of the wrong clock, or (time clock) one more than `maxFutureMs`
 *   ahead of `now` goes to the dead-letter topic, fitted to `maxDeadLetterBytes`.
 * - The combined watermark is `WatermarkTracker`'s: max(floor, min over inputs not caught up). An
 *   input's watermark counts only from the partition's NEXT unit of work on, when the transaction
 *   that forwarded the data before it has committed. So when W is written to the output, every
 *   record that any input placed before a watermark ≥ W is already committed on the output, ahead of W.
 * - An input is excluded (`markCaughtUp`) only when its consumed position has reached the end offset
 *   the shell read from Kafka, has stayed there for `caughtUpAfterMs` with no record arriving, and
 *   it has nothing staged; never for quiet time alone. Any record rejoins it.
 * - `pendingEmission` only ever offers watermarks above everything confirmed written: the output
 *   never sees a watermark go backwards, provided `floor` is recovered across restarts.
 */
export class WatermarkForwarder {
  readonly #options: ForwarderOptions;
  readonly #tracker: WatermarkTracker;
  readonly #inputs = new Map<string, InputState>();
  #floor: number;
  readonly counters: ForwarderCounters = { forwarded: 0, watermarksIn: 0, deadLettered: 0, deadLetteredByCode: new Map(), deadLettersTrimmed: 0, caughtUpMarks: 0 };

  constructor(options: ForwarderOptions) {
    if (options.inputs.length === 0) throw new RangeError('inputs: at least one input partition');
    if (!Number.isSafeInteger(options.outputPartitions) || options.outputPartitions < 1) throw new RangeError('outputPartitions: an integer ≥ 1');
    this.#options = options;
    this.#floor = options.floor ?? Number.NEGATIVE_INFINITY;
    const ignore: WatermarkOutput = { emitWatermark: () => undefined, markIdle: () => undefined, markActive: () => undefined };
    const ids = options.inputs.map(partitionId);
    this.#tracker = new WatermarkTracker({ inputs: ids, idleTimeout: options.idleTimeoutMs, now: options.now, output: ignore });
    for (const id of ids) this.#inputs.set(id, { staged: undefined, position: undefined, caughtUp: false, atEndSince: undefined });
  }

  /** Highest watermark confirmed written to the output (or recovered). */
  get floor(): number {
    return this.#floor;
  }

  /** The tracker's combined watermark (may be above `floor` until written). */
  get combined(): number {
    return this.#tracker.combined;
  }

  get regressions(): number {
    return this.#tracker.regressions;
  }

  get rejoinedBehind(): number {
    return this.#tracker.rejoinedBehind;
  }

  /** `committedOffset`: the group's committed offset for it (undefined / null: unknown). */
  onAssigned(tp: TopicPartition, committedOffset: number | null | undefined, now: number): void {
    const input = this.#input(tp, now);
    input.staged = undefined;
    // No committed offset: the consumer starts at the log start, so position 0 is a safe lower bound.
    input.position = committedOffset ?? 0;
  }

  onRevoked(tp: TopicPartition): void {
    const input = this.#inputs.get(partitionId(tp));
    if (input !== undefined) input.staged = undefined; // the next owner re-reads it after the committed offset... or the next one arrives
  }

  onRecords(tp: TopicPartition, records: readonly ConvoyRecord[], out: RecordSink, now: number): void {
    const id = partitionId(tp);
    const input = this.#input(tp, now);
    this.#applyStaged(id, input, now);
    let spoke = false;
    for (const record of records) {
      input.position = record.offset + 1;
      let envelope;
      try {
        envelope = decodeEnvelope(record.headers);
        if (envelope?.kind === 'watermark') {
          const value = this.#options.clock === 'time' ? envelope.eventTime : envelope.seq;
          if (value === undefined) {
            const wanted = this.#options.clock === 'time' ? 'convoy-event-time' : 'convoy-seq';
            throw new ConvoyError(WMF_WATERMARK_WRONG_CLOCK, `a watermark without ${wanted}: this forwarder runs on the ${this.#options.clock} clock`, {
              context: { clock: this.#options.clock },
            });
          }
          const maxFutureMs = this.#options.maxFutureMs;
          if (this.#options.clock === 'time' && maxFutureMs !== undefined && value > now + maxFutureMs) {
            throw new ConvoyError(
              WMF_EVENT_TIME_OUT_OF_RANGE,
              `watermark ${value} is more than WMF_EVENT_TIME_MAX_FUTURE_MS=${maxFutureMs} ahead of the processing clock ${now}`,
              { context: { watermark: value, now } },
            );
          }
          input.staged = Math.max(input.staged ?? Number.NEGATIVE_INFINITY, value);
          this.counters.watermarksIn++;
          spoke = true;
          continue;
        }
      } catch (error) {
        const dead = deadLetterRecord(record, error, STAGE, this.#options.dlqTopic);
        const limit = this.#options.maxDeadLetterBytes;
        const fitted = limit === undefined ? dead : fitRecord(dead, limit, isReasonHeader);
        if (fitted !== dead) this.counters.deadLettersTrimmed++;
        out.send(fitted);
        this.counters.deadLettered++;
        const code = isConvoyError(error) ? error.code : 'UNKNOWN';
        this.counters.deadLetteredByCode.set(code, (this.counters.deadLetteredByCode.get(code) ?? 0) + 1);
        spoke = true;
        continue;
      }
      const forwarded: OutgoingRecord = { topic: this.#options.outputTopic, key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp };
      if (record.key === null) forwarded.partition = record.partition % this.#options.outputPartitions;
      out.send(forwarded);
      this.counters.forwarded++;
      spoke = true;
    }
    if (spoke) {
      input.caughtUp = false;
      input.atEndSince = undefined;
      this.#tracker.markActivity(id, now);
    }
  }

  /**
   * A timer tick of partition `tp`: applies its staged watermark, then, if its position (records
   * consumed, or the processor's committed offset, which also covers trailing transaction markers)
   * has been at `endOffset` (as read from Kafka) for `caughtUpAfterMs`, marks it caught up.
   */
  onTick(tp: TopicPartition, now: number, offsets: { endOffset?: number | undefined; committedOffset?: number | undefined } = {}): void {
    const id = partitionId(tp);
    const input = this.#input(tp, now);
    this.#applyStaged(id, input, now);
    if (offsets.committedOffset !== undefined) input.position = Math.max(input.position ?? 0, offsets.committedOffset);
    const atEnd = offsets.endOffset !== undefined && input.position !== undefined && input.position >= offsets.endOffset;
    if (!atEnd) input.atEndSince = undefined;
    else input.atEndSince ??= now;
    if (atEnd && !input.caughtUp && now - input.atEndSince! >= this.#options.caughtUpAfterMs) {
      input.caughtUp = true;
      this.counters.caughtUpMarks++;
      this.#tracker.markCaughtUp(id, now);
    } else {
      this.#tracker.onPeriodicEmit(now);
    }
  }

  /** The watermark records to write now (one per output partition), or undefined when nothing new. */
  pendingEmission(): { watermark: number; records: OutgoingRecord[] } | undefined {
    const watermark = this.#tracker.combined;
    if (!(watermark > this.#floor)) return undefined;
    const headers = encodeEnvelope(this.#options.clock === 'time' ? { kind: 'watermark', eventTime: watermark } : { kind: 'watermark', seq: watermark });
    const records: OutgoingRecord[] = [];
    for (let partition = 0; partition < this.#options.outputPartitions; partition++) {
      records.push({ topic: this.#options.outputTopic, partition, key: null, value: null, headers: { ...headers } });
    }
    return { watermark, records };
  }

  /** `watermark` is on every output partition. */
  confirmWritten(watermark: number): void {
    if (watermark > this.#floor) this.#floor = watermark;
  }

  /**
   * Per input with a watermark: time clock → `now − watermark` (ms); logical clock → how far it
   * is behind the most advanced input (counter numbers).
   */
  lags(now: number): InputLag[] {
    const out: InputLag[] = [];
    let leader = Number.NEGATIVE_INFINITY;
    const known: Array<[string, number]> = [];
    for (const id of this.#inputs.keys()) {
      const watermark = this.#tracker.status(id, now).watermark;
      if (!Number.isFinite(watermark)) continue;
      known.push([id, watermark]);
      leader = Math.max(leader, watermark);
    }
    for (const [input, watermark] of known) out.push({ input, watermark, lag: this.#options.clock === 'time' ? now - watermark : leader - watermark });
    return out;
  }

  /** Inputs holding the combined watermark while silent (quiet, not caught up): worth an alert. */
  quietInputs(now: number): string[] {
    return this.#tracker.quietInputs(now);
  }

  #input(tp: TopicPartition, now: number): InputState {
    const id = partitionId(tp);
    let input = this.#inputs.get(id);
    if (input === undefined) {
      // A partition added to an input topic at run time: it holds the combined watermark until it passes it.
      this.#tracker.addInput(id, now);
      input = { staged: undefined, position: undefined, caughtUp: false, atEndSince: undefined };
      this.#inputs.set(id, input);
    }
    return input;
  }

  #applyStaged(id: string, input: InputState, now: number): void {
    if (input.staged === undefined) return;
    const staged = input.staged;
    input.staged = undefined;
    this.#tracker.update(id, staged, now);
  }
}

/** The dead-letter reason headers `fitRecord` must keep. */
function isReasonHeader(name: string): boolean {
  return name.startsWith('convoy-error-') || name.startsWith('__connect.errors.') || name.startsWith('kafka_dlt-');
}
