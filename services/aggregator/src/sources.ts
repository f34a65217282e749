/**
 * Where the aggregator finds a record's key, value and event time. Parsing happens once (config);
 * extraction is pure and per record.
 */
import { eventTimeFromText, type ConvoyRecord, type EventTimeSource, type KeySource } from '@convoy/kafka';

export type { AttributeSource, EventTimeSource, KeySource } from '@convoy/kafka';
export { parseEventTimeSource, parseKeySource } from '@convoy/kafka';

/** A dot path into a decoded JSON payload; undefined when any step is missing. */
export function fieldAt(payload: unknown, path: string): unknown {
  let at: unknown = payload;
  for (const segment of path.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[segment];
  }
  return at;
}

/** Lazily decodes a record's JSON payload once. `undefined` result = not decodable (no value, or not JSON). */
export class PayloadView {
  readonly #record: ConvoyRecord;
  #decoded: { ok: true; value: unknown } | { ok: false } | undefined;

  constructor(record: ConvoyRecord) {
    this.#record = record;
  }

  get decodable(): boolean {
    return this.#decode().ok;
  }

  field(path: string): unknown {
    const decoded = this.#decode();
    return decoded.ok ? fieldAt(decoded.value, path) : undefined;
  }

  #decode(): { ok: true; value: unknown } | { ok: false } {
    if (this.#decoded === undefined) {
      const bytes = this.#record.value;
      if (bytes === null || bytes.length === 0) {
        this.#decoded = { ok: false };
      } else {
        try {
          this.#decoded = { ok: true, value: JSON.parse(bytes.toString('utf8')) };
        } catch {
          this.#decoded = { ok: false };
        }
      }
    }
    return this.#decoded;
  }
}

/** Text of a key: strings as is, safe integers in decimal; anything else (missing, empty, object) is no key. */
export function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** A finite number, or a decimal string of one; anything else is no value. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Event time in ms: an integer (or decimal text of one) or an ISO-8601 date-time; undefined otherwise. */
export function eventTimeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  return typeof value === 'string' ? eventTimeFromText(value) : undefined;
}

export function extractKey(record: ConvoyRecord, payload: PayloadView, source: KeySource): string | undefined {
  switch (source.kind) {
    case 'key':
      return record.key === null ? undefined : keyText(record.key.toString('utf8'));
    case 'header':
      return keyText(record.headers[source.name]?.toString('utf8'));
    case 'field':
      return keyText(payload.field(source.path));
  }
}

export function extractEventTime(record: ConvoyRecord, payload: PayloadView, source: EventTimeSource): number | undefined {
  switch (source.kind) {
    case 'timestamp':
      return Number.isSafeInteger(record.timestamp) ? record.timestamp : undefined;
    case 'header':
      return eventTimeOf(record.headers[source.name]?.toString('utf8'));
    case 'field':
      return eventTimeOf(payload.field(source.path));
  }
}

/** What an event-time source holds: nothing, something that is no time, or a time in ms. */
export type EventTimeReading = { kind: 'missing' } | { kind: 'unreadable'; raw: unknown } | { kind: 'time'; ms: number };

/** Like `extractEventTime`, telling a missing source from one that holds no time. */
export function readEventTime(record: ConvoyRecord, payload: PayloadView, source: EventTimeSource): EventTimeReading {
  const raw = source.kind === 'timestamp' ? record.timestamp : source.kind === 'header' ? record.headers[source.name]?.toString('utf8') : payload.field(source.path);
  if (raw === undefined || raw === null) return { kind: 'missing' };
  const ms = eventTimeOf(raw);
  return ms === undefined ? { kind: 'unreadable', raw } : { kind: 'time', ms };
}

/**
 * Bounds on an event time (ms since the epoch), each optional; the relative ones are measured
 * against the processing clock (`now` of the unit of work).
 */
export interface EventTimeBounds {
  /** Earliest accepted event time, absolute. */
  readonly min?: number;
  /** Latest accepted event time: this far ahead of `now`. */
  readonly maxFutureMs?: number;
  /** Earliest accepted event time: this far behind `now`. */
  readonly maxPastMs?: number;
}

/** Why `ms` breaks `bounds` at processing time `now` (naming the setting), or undefined. */
export function outOfBounds(ms: number, now: number, bounds: EventTimeBounds | undefined): string | undefined {
  if (bounds === undefined) return undefined;
  if (bounds.min !== undefined && ms < bounds.min) return `before AGG_EVENT_TIME_MIN=${bounds.min}`;
  if (bounds.maxFutureMs !== undefined && ms > now + bounds.maxFutureMs) return `more than AGG_EVENT_TIME_MAX_FUTURE_MS=${bounds.maxFutureMs} ahead of the processing clock ${now}`;
  if (bounds.maxPastMs !== undefined && ms < now - bounds.maxPastMs) return `more than AGG_EVENT_TIME_MAX_PAST_MS=${bounds.maxPastMs} behind the processing clock ${now}`;
  return undefined;
}

/** The dead-letter reason headers `fitRecord` must keep. */
export function isReasonHeader(name: string): boolean {
  return name.startsWith('convoy-error-') || name.startsWith('__connect.errors.') || name.startsWith('kafka_dlt-');
}
