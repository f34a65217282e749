import { ConvoyError } from '@convoy/errors';
import type { RecordHeaders, TopicPartition } from './types.ts';

export const ENVELOPE_MALFORMED = 'ENVELOPE_MALFORMED';

export const CONVOY_KINDS = ['data', 'progress', 'filler', 'watermark'] as const;
export type ConvoyKind = (typeof CONVOY_KINDS)[number];

/** Header names, as in docs/wire-contract.md. */
export const HEADER = {
  kind: 'convoy-kind',
  seq: 'convoy-seq',
  prev: 'convoy-prev',
  source: 'convoy-source',
  eventTime: 'convoy-event-time',
  substream: 'convoy-substream',
  epoch: 'convoy-epoch',
  substreams: 'convoy-substreams',
  epochStart: 'convoy-epoch-start',
  late: 'convoy-late',
} as const;

export const CONVOY_HEADER_PREFIX = 'convoy-';

/**
 * Convoy metadata of one record. `seq`, `prev`, `eventTime`, ... are non-negative safe integers
 * (event time may be any safe integer), carried as decimal text.
 * Required per kind: data / filler: `seq` and `source`; progress: `seq`, `source`; watermark:
 * `seq` (logical clock) or `eventTime` (wall clock).
 */
export interface Envelope {
  kind: ConvoyKind;
  seq?: number;
  prev?: number;
  source?: TopicPartition;
  eventTime?: number;
  substream?: number;
  epoch?: number;
  substreams?: number;
  /** First seq the sub-streams of `epoch` govern (progress markers of an epoch that does not govern from the beginning). */
  epochStart?: number;
  late?: boolean;
}

function malformed(message: string, header: string, raw?: string): ConvoyError {
  return new ConvoyError(ENVELOPE_MALFORMED, message, { context: raw === undefined ? { header } : { header, value: raw } });
}

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

function parseInteger(header: string, raw: string, allowNegative: boolean): number {
  if (!DECIMAL.test(raw) || (!allowNegative && raw.startsWith('-'))) {
    throw malformed(`${header}=${JSON.stringify(raw)} is not a ${allowNegative ? '' : 'non-negative '}decimal integer`, header, raw);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw malformed(`${header}=${raw} is beyond 2^53`, header, raw);
  return value;
}

function checkInteger(header: string, value: number, allowNegative: boolean): string {
  if (!Number.isSafeInteger(value) || (!allowNegative && value < 0)) {
    throw malformed(`${header}: ${value} is not a ${allowNegative ? '' : 'non-negative '}safe integer`, header);
  }
  return String(value);
}

function requireFields(envelope: Envelope): void {
  const needs = (field: keyof Envelope, header: string) => {
    if (envelope[field] === undefined) throw malformed(`a ${envelope.kind} record needs ${header}`, header);
  };
  if (envelope.kind === 'watermark') {
    if (envelope.seq === undefined && envelope.eventTime === undefined) {
      throw malformed(`a watermark needs ${HEADER.seq} or ${HEADER.eventTime}`, HEADER.seq);
    }
    return;
  }
  needs('seq', HEADER.seq);
  needs('source', HEADER.source);
}

/** Encodes an envelope as `convoy-*` headers (UTF-8 decimal text). Throws `ENVELOPE_MALFORMED` on invalid fields. */
export function encodeEnvelope(envelope: Envelope): Record<string, Buffer> {
  if (!(CONVOY_KINDS as readonly string[]).includes(envelope.kind)) throw malformed(`unknown kind ${String(envelope.kind)}`, HEADER.kind);
  requireFields(envelope);
  const text: Record<string, string> = { [HEADER.kind]: envelope.kind };
  if (envelope.seq !== undefined) text[HEADER.seq] = checkInteger(HEADER.seq, envelope.seq, false);
  if (envelope.prev !== undefined) text[HEADER.prev] = checkInteger(HEADER.prev, envelope.prev, false);
  if (envelope.source !== undefined) {
    const { topic, partition } = envelope.source;
    if (topic === '' || topic.includes('/')) throw malformed(`source topic ${JSON.stringify(topic)} is not a topic name`, HEADER.source);
    text[HEADER.source] = `${topic}/${checkInteger(HEADER.source, partition, false)}`;
  }
  if (envelope.eventTime !== undefined) text[HEADER.eventTime] = checkInteger(HEADER.eventTime, envelope.eventTime, true);
  if (envelope.substream !== undefined) text[HEADER.substream] = checkInteger(HEADER.substream, envelope.substream, false);
  if (envelope.epoch !== undefined) text[HEADER.epoch] = checkInteger(HEADER.epoch, envelope.epoch, false);
  if (envelope.substreams !== undefined) text[HEADER.substreams] = checkInteger(HEADER.substreams, envelope.substreams, false);
  if (envelope.epochStart !== undefined) text[HEADER.epochStart] = checkInteger(HEADER.epochStart, envelope.epochStart, false);
  if (envelope.late === true) text[HEADER.late] = 'true';
  const out: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(text)) out[name] = Buffer.from(value, 'utf8');
  return out;
}

/**
 * Reads the envelope of a record written by a Convoy stage. Returns undefined when the record has
 * no `convoy-kind` header and no other `convoy-*` header (a plain record). Any present but invalid
 * `convoy-*` header throws `ENVELOPE_MALFORMED` (not retriable), naming the header: the caller
 * dead-letters the record.
 */
export function decodeEnvelope(headers: RecordHeaders): Envelope | undefined {
  const get = (name: string): string | undefined => headers[name]?.toString('utf8');
  const kind = get(HEADER.kind);
  if (kind === undefined) {
    const stray = Object.keys(headers).find((name) => name.startsWith(CONVOY_HEADER_PREFIX) && headers[name] !== undefined);
    if (stray === undefined) return undefined;
    throw malformed(`${stray} is set but ${HEADER.kind} is missing`, HEADER.kind);
  }
  if (!(CONVOY_KINDS as readonly string[]).includes(kind)) {
    throw malformed(`${HEADER.kind}=${JSON.stringify(kind)} is not one of ${CONVOY_KINDS.join(', ')}`, HEADER.kind, kind);
  }
  const envelope: Envelope = { kind: kind as ConvoyKind };
  const integer = (header: string, allowNegative = false): number | undefined => {
    const raw = get(header);
    return raw === undefined ? undefined : parseInteger(header, raw, allowNegative);
  };
  const seq = integer(HEADER.seq);
  if (seq !== undefined) envelope.seq = seq;
  const prev = integer(HEADER.prev);
  if (prev !== undefined) envelope.prev = prev;
  const source = get(HEADER.source);
  if (source !== undefined) {
    const slash = source.lastIndexOf('/');
    if (slash <= 0) throw malformed(`${HEADER.source}=${JSON.stringify(source)} is not <topic>/<partition>`, HEADER.source, source);
    envelope.source = { topic: source.slice(0, slash), partition: parseInteger(HEADER.source, source.slice(slash + 1), false) };
  }
  const eventTime = integer(HEADER.eventTime, true);
  if (eventTime !== undefined) envelope.eventTime = eventTime;
  const substream = integer(HEADER.substream);
  if (substream !== undefined) envelope.substream = substream;
  const epoch = integer(HEADER.epoch);
  if (epoch !== undefined) envelope.epoch = epoch;
  const substreams = integer(HEADER.substreams);
  if (substreams !== undefined) envelope.substreams = substreams;
  const epochStart = integer(HEADER.epochStart);
  if (epochStart !== undefined) envelope.epochStart = epochStart;
  const late = get(HEADER.late);
  if (late !== undefined) {
    if (late !== 'true' && late !== 'false') throw malformed(`${HEADER.late}=${JSON.stringify(late)} is not true or false`, HEADER.late, late);
    if (late === 'true') envelope.late = true;
  }
  requireFields(envelope);
  return envelope;
}

/** A copy of `headers` without any `convoy-*` header. Input headers are never trusted as Convoy metadata. */
export function stripConvoyHeaders(headers: RecordHeaders): RecordHeaders {
  const out: RecordHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(CONVOY_HEADER_PREFIX)) out[name] = value;
  return out;
}

/** `headers` with every `convoy-*` header replaced by the encoded envelope. */
export function withEnvelope(headers: RecordHeaders, envelope: Envelope): RecordHeaders {
  return { ...stripConvoyHeaders(headers), ...encodeEnvelope(envelope) };
}
