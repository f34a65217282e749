/**
 * The worker's logic over one batch of one `convoy.substreams` partition: records in → records out,
 * in input order. No Kafka, no real clock: time and sleeping come from the injected `WorkerTimers`.
 */
import { ConvoyError, errorCode, errorMessage, isRetriable } from '@convoy/errors';
import type { Logger } from '@convoy/logging';
import type { Metrics } from '@convoy/telemetry';
import {
  deadLetterRecord,
  decodeEnvelope,
  HEADER,
  type ConvoyRecord,
  type Envelope,
  type OutgoingRecord,
  type PartitionHandler,
  type ProcessorOutput as PartitionOutput,
  type RecordHeaders,
  type TopicPartition,
} from '@convoy/kafka';
import { normalizeOutput, type PayloadCodec, type Processor, type ProcessorResult, type WorkerEvent } from './processor.ts';

export const WORKER_STAGE = 'worker';

/** Headers the worker adds on top of the wire contract's envelope. */
export const WORKER_HEADER = {
  /** On a fan-out record: how many results its JSON array value holds. */
  parts: 'convoy-parts',
  /** On a filler the worker wrote: `filtered` or `dead-lettered`. */
  fillerReason: 'convoy-filler-reason',
  /** On a dead letter: how many tries the event got. */
  attempts: 'convoy-error-attempts',
} as const;

type InputRecord = ConvoyRecord;
type OutputRecord = OutgoingRecord;

/** An envelope with what the worker needs to address its outputs: a seq and a source partition. */
interface Routed {
  readonly envelope: Envelope;
  readonly seq: number;
  readonly source: string;
  readonly sourcePartition: number;
}

function route(record: InputRecord): Routed {
  const envelope = decodeEnvelope(record.headers);
  if (envelope === undefined) throw new ConvoyError('WORKER_NOT_A_CONVOY_RECORD', 'the record has no convoy-* envelope headers');
  if (envelope.seq === undefined || envelope.source === undefined) {
    throw new ConvoyError('WORKER_UNROUTABLE', `a ${envelope.kind} record without ${HEADER.seq} and ${HEADER.source} cannot be addressed to a source partition`);
  }
  const source = `${envelope.source.topic}/${envelope.source.partition}`;
  return { envelope, seq: envelope.seq, source, sourcePartition: envelope.source.partition };
}

/** Time and waiting, injected so tests drive retries and timeouts without real timers. */
export interface WorkerTimers {
  now(): number;
  /** Resolves after `ms`; rejects once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

/** Delay before retry number `attempt` (1 = after the first failure): initial·multiplier^(attempt−1), capped. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  return Math.min(options.maxMs, options.initialMs * options.multiplier ** (attempt - 1));
}

export type EventOutcome = 'out' | 'filtered' | 'dead-lettered';

/**
 * How every record left. Data: `eventsIn = eventsOut + filtered + deadLettered` once a batch
 * returns. Control records: `controlIn = markersForwarded + controlForwarded + controlDeadLettered`.
 * Records without a readable envelope are counted in `invalidEnvelopes` and dead-lettered.
 */
export interface WorkerCounters {
  eventsIn: number;
  eventsOut: number;
  filtered: number;
  deadLettered: number;
  /** Results folded into one record by a fan-out (events with more than one result). */
  fanOuts: number;
  fillersWritten: number;
  retries: number;
  timeouts: number;
  controlIn: number;
  markersForwarded: number;
  /** Upstream fillers and watermarks, forwarded in position like markers. */
  controlForwarded: number;
  controlDeadLettered: number;
  invalidEnvelopes: number;
}

export interface WorkerObserver {
  eventDone?(outcome: EventOutcome, latencyMs: number, event: WorkerEvent): void;
  retrying?(code: string, attempt: number, delayMs: number, event: WorkerEvent): void;
  deadLettered?(code: string, message: string, record: InputRecord): void;
}

export interface WorkerHandlerOptions {
  processor: Processor;
  codec: PayloadCodec;
  logger: Logger;
  metrics?: Metrics;
  timers: WorkerTimers;
  processedTopic: string;
  dlqTopic: string;
  /** Partition count of the processed topic: a source partition at or above it cannot be addressed. */
  processedPartitions: number;
  /** Write a filler for each filtered event. Dead-lettered events always get one. */
  emitFillers: boolean;
  /** Tries per event, the first included (≥ 1). */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Per-try time limit; on expiry the try's signal aborts and it fails retriably. Undefined: none. */
  processTimeoutMs?: number;
  /** Data events processed at once within a batch (≥ 1). Outputs keep input order regardless. */
  concurrency?: number;
  observer?: WorkerObserver;
  /** Aborted at shutdown: the batch in flight rejects and is not committed. */
  signal?: AbortSignal;
}

/**
 * Runs the processor over a batch of one sub-stream partition.
 *
 * Guarantees for `handleBatch(records)`:
 * - The output keeps input order: each record's outputs appear after those of every record before
 *   it. A progress marker is therefore written behind everything its sub-stream held before it
 *   ("forwarded in position"), in the same transaction when the shell writes the batch as one.
 * - Every data event leaves exactly one way: one data record (fan-out results folded into it),
 *   filtered (plus a filler when `emitFillers`), or dead-lettered plus a filler. Every output keeps
 *   the event's `convoy-*` headers and goes to processed partition = source partition, so the merger
 *   sees exactly one record per seq.
 * - A failing event is retried only while its error says `retriable` and attempts remain; it never
 *   blocks the events behind it beyond `maxAttempts` tries.
 * - When `signal` aborts (shutdown) the returned promise rejects and nothing of the batch is to be
 *   written; it is reprocessed from the committed offset.
 */
export class WorkerHandler implements PartitionHandler {
  readonly #options: WorkerHandlerOptions;
  readonly #concurrency: number;
  readonly #signal: AbortSignal;
  readonly #counters: WorkerCounters = {
    eventsIn: 0,
    eventsOut: 0,
    filtered: 0,
    deadLettered: 0,
    fanOuts: 0,
    fillersWritten: 0,
    retries: 0,
    timeouts: 0,
    controlIn: 0,
    markersForwarded: 0,
    controlForwarded: 0,
    controlDeadLettered: 0,
    invalidEnvelopes: 0,
  };

  constructor(options: WorkerHandlerOptions) {
    const positive = (name: string, value: number | undefined) => {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
        throw new ConvoyError('WORKER_INVALID_OPTION', `${name} must be an integer >= 1, got ${String(value)}`);
      }
    };
    positive('maxAttempts', options.maxAttempts);
    positive('processedPartitions', options.processedPartitions);
    positive('concurrency', options.concurrency);
    this.#options = options;
    this.#concurrency = options.concurrency ?? 1;
    this.#signal = options.signal ?? new AbortController().signal;
  }

  /** The port's per-partition hook: the batch's outputs, in order, go into the unit's one transaction. */
  async onRecords(_partition: TopicPartition, records: readonly ConvoyRecord[], out: PartitionOutput): Promise<void> {
    for (const record of await this.handleBatch(records, this.#signal)) out.send(record);
  }

  get counters(): Readonly<WorkerCounters> {
    return { ...this.#counters };
  }

  async handleBatch(records: readonly InputRecord[], signal: AbortSignal): Promise<OutputRecord[]> {
    const outputs: (OutputRecord[] | Promise<OutputRecord[]>)[] = [];
    const inFlight = new Set<Promise<void>>();
    for (const record of records) {
      if (signal.aborted) throw abortReason(signal);
      let routed: Routed;
      try {
        routed = route(record);
      } catch (error) {
        this.#counters.invalidEnvelopes++;
        outputs.push([this.#deadLetter(record, error, 1)]);
        continue;
      }
      if (routed.envelope.kind !== 'data') {
        outputs.push([this.#forwardControl(record, routed)]);
        continue;
      }
      this.#counters.eventsIn++;
      if (routed.sourcePartition >= this.#options.processedPartitions) {
        this.#counters.deadLettered++;
        outputs.push([this.#deadLetter(record, outOfRange(routed, this.#options.processedPartitions), 1)]);
        continue;
      }
      while (inFlight.size >= this.#concurrency) await Promise.race(inFlight);
      const task = this.#processEvent(record, routed, signal);
      const settled = task.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      outputs.push(task);
    }
    return (await Promise.all(outputs)).flat();
  }

  #forwardControl(record: InputRecord, envelope: Routed): OutputRecord {
    this.#counters.controlIn++;
    if (envelope.sourcePartition >= this.#options.processedPartitions) {
      this.#counters.controlDeadLettered++;
      return this.#deadLetter(record, outOfRange(envelope, this.#options.processedPartitions), 1);
    }
    if (envelope.envelope.kind === 'progress') this.#counters.markersForwarded++;
    else this.#counters.controlForwarded++;
    return {
      topic: this.#options.processedTopic,
      partition: envelope.sourcePartition,
      key: record.key,
      value: record.value,
      headers: withSubstream(record.headers, record.partition),
    };
  }

  async #processEvent(record: InputRecord, routed: Routed, signal: AbortSignal): Promise<OutputRecord[]> {
    const options = this.#options;
    const event: WorkerEvent = {
      key: record.key,
      value: record.value,
      headers: record.headers,
      seq: routed.seq,
      prev: routed.envelope.prev,
      source: routed.source,
      sourcePartition: routed.sourcePartition,
      substream: routed.envelope.substream ?? record.partition,
      eventTime: routed.envelope.eventTime,
      offset: record.offset,
    };
    const started = options.timers.now();
    const done = (outcome: EventOutcome, out: OutputRecord[]): OutputRecord[] => {
      options.observer?.eventDone?.(outcome, options.timers.now() - started, event);
      return out;
    };
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw abortReason(signal);
      try {
        const results = normalizeOutput(await this.#tryOnce(event, attempt, signal));
        if (results.length === 0) {
          this.#counters.filtered++;
          if (!options.emitFillers) return done('filtered', []);
          this.#counters.fillersWritten++;
          return done('filtered', [this.#filler(record, event, 'filtered')]);
        }
        const out = await this.#resultRecord(record, event, results);
        this.#counters.eventsOut++;
        if (results.length > 1) this.#counters.fanOuts++;
        return done('out', [out]);
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        if (isRetriable(error) && attempt < options.maxAttempts) {
          const delay = backoffDelay(attempt, options.backoff);
          this.#counters.retries++;
          options.observer?.retrying?.(errorCode(error), attempt, delay, event);
          await options.timers.sleep(delay, signal);
          continue;
        }
        this.#counters.deadLettered++;
        this.#counters.fillersWritten++;
        return done('dead-lettered', [this.#deadLetter(record, error, attempt), this.#filler(record, event, 'dead-lettered')]);
      }
    }
  }

  async #tryOnce(event: WorkerEvent, attempt: number, signal: AbortSignal): Promise<unknown> {
    const options = this.#options;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const context = {
      seq: event.seq,
      source: event.source,
      substream: event.substream,
      eventTime: event.eventTime,
      attempt,
      logger: options.logger,
      metrics: options.metrics,
      codec: options.codec,
      signal: controller.signal,
    };
    try {
      const call = Promise.resolve().then(() => options.processor(event, context));
      if (options.processTimeoutMs === undefined) return await call;
      const timeoutMs = options.processTimeoutMs;
      const timeout = options.timers.sleep(timeoutMs, controller.signal).then(() => {
        this.#counters.timeouts++;
        const error = new ConvoyError('WORKER_PROCESSOR_TIMEOUT', `processor did not finish within ${timeoutMs} ms`, { retriable: true });
        controller.abort(error);
        throw error;
      });
      timeout.catch(() => undefined);
      return await Promise.race([call, timeout]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort(new ConvoyError('WORKER_TRY_FINISHED', 'the try is over'));
    }
  }

  async #resultRecord(record: InputRecord, event: WorkerEvent, results: readonly ProcessorResult[]): Promise<OutputRecord> {
    const codec = this.#options.codec;
    let headers: RecordHeaders = { ...record.headers };
    for (const result of results) headers = mergeUserHeaders(headers, result.headers);
    headers = withSubstream(headers, record.partition);
    headers[HEADER.kind] = Buffer.from('data');
    const first = results[0] as ProcessorResult;
    const key = first.key === undefined ? record.key : first.key;
    let value: Buffer | string | null;
    if (results.length === 1) {
      value = isRaw(first.value) ? first.value : await codec.encode(first.value, record.value);
    } else {
      // Fan-out: one record per seq, so the merger still sees each seq exactly once.
      headers[WORKER_HEADER.parts] = Buffer.from(String(results.length));
      value = Buffer.from(JSON.stringify(results.map((r) => (Buffer.isBuffer(r.value) ? r.value.toString('utf8') : r.value))), 'utf8');
    }
    return { topic: this.#options.processedTopic, partition: event.sourcePartition, key, value, headers };
  }

  #filler(record: InputRecord, event: WorkerEvent, reason: 'filtered' | 'dead-lettered'): OutputRecord {
    const headers: RecordHeaders = {};
    for (const name of [HEADER.seq, HEADER.prev, HEADER.source, HEADER.eventTime, HEADER.epoch]) {
      const value = record.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    headers[HEADER.kind] = Buffer.from('filler');
    headers[HEADER.substream] = Buffer.from(String(event.substream));
    headers[WORKER_HEADER.fillerReason] = Buffer.from(reason);
    return { topic: this.#options.processedTopic, partition: event.sourcePartition, key: record.key, value: null, headers };
  }

  #deadLetter(record: InputRecord, error: unknown, attempts: number): OutputRecord {
    this.#options.observer?.deadLettered?.(errorCode(error), errorMessage(error), record);
    const letter = deadLetterRecord(record, error, WORKER_STAGE, this.#options.dlqTopic);
    return { ...letter, headers: { ...letter.headers, [WORKER_HEADER.attempts]: Buffer.from(String(attempts)) } };
  }
}

function isRaw(value: unknown): value is Buffer | string | null {
  return value === null || typeof value === 'string' || Buffer.isBuffer(value);
}

function mergeUserHeaders(headers: RecordHeaders, extra: RecordHeaders | undefined): RecordHeaders {
  if (extra === undefined) return headers;
  const out = { ...headers };
  for (const [name, value] of Object.entries(extra)) {
    if (!name.startsWith('convoy-')) out[name] = value;
  }
  return out;
}

function withSubstream(headers: RecordHeaders, partition: number): RecordHeaders {
  if (headers[HEADER.substream] !== undefined) return headers;
  return { ...headers, [HEADER.substream]: Buffer.from(String(partition)) };
}

function outOfRange(envelope: Routed, partitions: number): ConvoyError {
  return new ConvoyError(
    'WORKER_SOURCE_PARTITION_OUT_OF_RANGE',
    `source ${envelope.source} has no partition in the processed topic (${partitions} partitions); raise WORKER_PROCESSED_PARTITIONS`,
  );
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new ConvoyError('WORKER_ABORTED', 'batch aborted');
}
