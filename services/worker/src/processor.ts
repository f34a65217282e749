/**
 * The processor contract: what a user plugs into the worker.
 */
import type { Logger } from '@convoy/logging';
import type { Metrics } from '@convoy/telemetry';
import type { RecordHeaders } from '@convoy/kafka';

/** One data event of a sub-stream, as a processor sees it. The payload is raw; decode with `context.codec`. */
export interface WorkerEvent {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Every header as received, the `convoy-*` envelope included. */
  readonly headers: RecordHeaders;
  readonly seq: number;
  readonly prev: number | undefined;
  /** `<topic>/<partition>` of the source record. */
  readonly source: string;
  readonly sourcePartition: number;
  /** The sub-stream (partition of `convoy.substreams`) the event came through. */
  readonly substream: number;
  /** ms since the epoch; undefined when the splitter stamped none. */
  readonly eventTime: number | undefined;
  /** Offset in the sub-stream partition (not the seq). */
  readonly offset: number;
}

/**
 * Decodes and encodes payloads. `encode(value, like)` writes `value` in the format of `like`, the
 * event's original payload: plain JSON stays JSON; a Schema Registry framed payload is re-encoded
 * with the same schema, or the codec throws a non-retriable error when it cannot.
 */
export interface PayloadCodec {
  decode(bytes: Buffer): unknown;  // may return a Promise: always `await` it
  encode(value: unknown, like: Buffer | null): Buffer | Promise<Buffer>;
}

export interface ProcessorContext {
  readonly seq: number;
  readonly source: string;
  readonly substream: number;
  readonly eventTime: number | undefined;
  /** 1 on the first try, up to `WORKER_MAX_ATTEMPTS` on retries of a retriable error. */
  readonly attempt: number;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly codec: PayloadCodec;
  /** Aborted on shutdown or when the per-event timeout expires; pass it to any I/O you start. */
  readonly signal: AbortSignal;
}

/**
 * A result. `value`: a Buffer or string is written as is, null is written as null, anything else
 * is encoded with `context.codec` in the format of the event's payload. `key` defaults to the
 * event's key. `headers` are added to the event's headers; `convoy-*` names are ignored, since
 * the envelope belongs to the worker.
 */
export interface ProcessorResult {
  value: unknown;
  key?: Buffer | string | null;
  headers?: RecordHeaders;
}

/** `null`, `undefined` or `[]`: the event is filtered. An array of n > 1 is a fan-out (see README). */
export type ProcessorOutput = ProcessorResult | readonly ProcessorResult[] | null | undefined;

/**
 * `(event, context) => result | result[] | null`, sync or async. Throwing rejects the event: a
 * `retriable: true` error is retried with backoff up to `WORKER_MAX_ATTEMPTS`, anything else is
 * dead-lettered at once. The worker calls a processor for one event at a time per partition unless
 * `WORKER_CONCURRENCY` > 1.
 */
export type Processor = (event: WorkerEvent, context: ProcessorContext) => ProcessorOutput | Promise<ProcessorOutput>;

export interface ProcessorFactoryContext {
  /** Parsed `WORKER_PROCESSOR_OPTIONS` (a JSON object), `{}` when unset. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The raw environment, for processors with their own variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly codec: PayloadCodec;
}

/** The default export of a processor module: builds the processor once at start. */
export type ProcessorFactory = (context: ProcessorFactoryContext) => Processor | Promise<Processor>;

/**
 * Normalises a processor's output to a list: null/undefined/[] → [] (filtered). Rejects anything
 * that is not a result object, so a processor bug is dead-lettered with a clear code instead of
 * writing `undefined` downstream.
 */
export function normalizeOutput(output: unknown): readonly ProcessorResult[] {
  if (output === null || output === undefined) return [];
  const list = Array.isArray(output) ? (output as unknown[]) : [output];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item) || !('value' in item)) {
      throw new TypeError('a processor must return { value, key?, headers? }, an array of them, or null');
    }
  }
  return list as ProcessorResult[];
}
