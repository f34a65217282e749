import { z } from 'zod';
import { bytes, connectionFields, duration, field, int, loadConfig, oneOf, str, type Field, type ParseResult } from '@convoy/config';
import { eventTimeOf, parseEventTimeSource, parseKeySource, type EventTimeBounds, type EventTimeSource, type KeySource } from './sources.ts';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const topic = () => str({ pattern: TOPIC, expects: 'a Kafka topic name (letters, digits, . _ -)' });

function parsed<T>(expects: string, defaultValue: T, parse: (text: string) => ParseResult<T>): Field<T> {
  const base = field(z.any(), expects).default(defaultValue);
  return Object.freeze({ ...base, parse });
}

const keySource = parsed<KeySource>('key, header:<name> or field:<dot.path>', { kind: 'key' }, (text) => {
  const source = parseKeySource(text);
  return source === undefined ? { ok: false } : { ok: true, value: source };
});

const eventTimeSource = parsed<EventTimeSource>(
  'timestamp, header:<name> or field:<dot.path>',
  { kind: 'header', name: 'convoy-event-time' },
  (text) => {
    const source = parseEventTimeSource(text);
    return source === undefined ? { ok: false } : { ok: true, value: source };
  },
);

const eventTimeMin = parsed<number | undefined>('ms since the epoch, an ISO-8601 date-time, or none', undefined, (text) => {
  if (text === 'none') return { ok: true, value: undefined };
  const ms = eventTimeOf(text);
  return ms === undefined ? { ok: false } : { ok: true, value: ms };
});

const DOT_PATH = /^[^.\s]+(\.[^.\s]+)*$/;

/**
 * The aggregator's environment, parsed once at start; a bad value stops the service with a message
 * naming the variable.
 */
export const aggregatorSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-aggregator'),
  AGG_MODE: oneOf(['windows', 'dispatch']).default('windows'),
  AGG_INPUT_TOPIC: topic().default('convoy.ordered'),
  AGG_OUTPUT_TOPIC: topic().default('convoy.aggregates').describe('a topic name (windows: compacted results; dispatch: assignments and cancellations)'),
  AGG_LATE_TOPIC: topic().optional().describe('a topic name (default <AGG_OUTPUT_TOPIC>.late)'),
  AGG_DLQ_TOPIC: topic().default('convoy.dlq'),
  AGG_GROUP_ID: str().default('convoy-aggregator'),
  /** Transactional ids are `<prefix>-<topic>-<partition>`: stable across restarts, unique per deployment. */
  AGG_TRANSACTIONAL_ID_PREFIX: str().optional(),
  AGG_CHANGELOG_TOPIC: topic().optional().describe('a topic name (default <AGG_GROUP_ID>.changelog, compacted)'),
  AGG_KEY: keySource,
  AGG_VALUE_FIELD: str({ pattern: DOT_PATH, expects: 'a dot path into the JSON payload, e.g. amount or order.total' }).optional(),
  AGG_EVENT_TIME: eventTimeSource,
  /** Earliest accepted event time (absolute); `none` (default) turns the bound off. */
  AGG_EVENT_TIME_MIN: eventTimeMin,
  /** Accepted event times (and watermarks) reach at most this far ahead of the processing clock; 0 turns the bound off. */
  AGG_EVENT_TIME_MAX_FUTURE_MS: duration({ min: 0 }).default(60 * 60 * 1000).describe('a duration such as 1h; 0 turns the bound off'),
  /** Accepted event times reach at most this far behind the processing clock; 0 (default) turns the bound off. */
  AGG_EVENT_TIME_MAX_PAST_MS: duration({ min: 0 }).default(0).describe('a duration such as 168h; 0 turns the bound off'),
  AGG_WINDOW_SIZE_MS: duration({ min: 1 }).default(60_000),
  AGG_WINDOW_SLIDE_MS: duration({ min: 1 })
    .optional()
    .check((slide, config) => {
      const size = config['AGG_WINDOW_SIZE_MS'];
      return slide !== undefined && typeof size === 'number' && slide > size
        ? `AGG_WINDOW_SLIDE_MS=${slide} is above AGG_WINDOW_SIZE_MS=${size}: events in the gaps would belong to no window`
        : undefined;
    }),
  AGG_WINDOW_OFFSET_MS: int()
    .default(0)
    .check((offset, config) => {
      const slide = config['AGG_WINDOW_SLIDE_MS'] ?? config['AGG_WINDOW_SIZE_MS'];
      return typeof slide === 'number' && Math.abs(offset) >= slide ? `AGG_WINDOW_OFFSET_MS=${offset}: expected |offset| < the slide (${slide})` : undefined;
    }),
  AGG_ALLOWED_LATENESS_MS: duration({ min: 0 }).default(0),
  AGG_EARLY_EVERY_EVENTS: int({ min: 1 }).optional(),
  AGG_EARLY_EVERY_MS: duration({ min: 1 }).optional(),
  AGG_MAX_OPEN_WINDOWS: int({ min: 1, max: 1_000_000 }).default(10_000).describe('an integer (windows held per input partition; bounds the changelog snapshot)'),
  AGG_OVERFLOW: oneOf(['retire-oldest', 'reject-new']).default('retire-oldest'),
  AGG_WATERMARK: oneOf(['records', 'bounded', 'both']).default('records'),
  AGG_MAX_OUT_OF_ORDER_MS: duration({ min: 0 }).default(5_000),
  AGG_DISPATCH_RETENTION_MS: duration({ min: 1 }).default(600_000),
  AGG_DISPATCH_MAX_REQUESTS: int({ min: 1, max: 1_000_000 }).default(100_000),
  AGG_DISPATCH_OVERFLOW: oneOf(['expire-oldest', 'reject-new']).default('expire-oldest'),
  AGG_SNAPSHOT_CHUNK_BYTES: bytes({ min: 1024, max: 900 * 1024 }).default(256 * 1024),
  AGG_TICK_INTERVAL_MS: duration({ min: 1 }).default(1_000),
  AGG_MAX_BATCH_RECORDS: int({ min: 1 }).default(5_000),
  AGG_RECOVERY_WINDOW: int({ min: 1 }).default(64).describe('an integer (changelog offsets read back per step on assignment)'),
};

export type AggregatorConfig = ReturnType<typeof loadAggregatorConfig>;

/** Parses the environment once; throws `CONFIG_INVALID` naming every bad variable. */
export const loadAggregatorConfig = (env: Readonly<Record<string, string | undefined>> = process.env) => loadConfig(aggregatorSchema, env);

export function lateTopicOf(config: Pick<AggregatorConfig, 'AGG_LATE_TOPIC' | 'AGG_OUTPUT_TOPIC'>): string {
  return config.AGG_LATE_TOPIC ?? `${config.AGG_OUTPUT_TOPIC}.late`;
}

export function changelogTopicOf(config: Pick<AggregatorConfig, 'AGG_CHANGELOG_TOPIC' | 'AGG_GROUP_ID'>): string {
  return config.AGG_CHANGELOG_TOPIC ?? `${config.AGG_GROUP_ID}.changelog`;
}

/** The bounds of AGG_EVENT_TIME_MIN / _MAX_FUTURE_MS / _MAX_PAST_MS (none or 0: that bound is off). */
export function eventTimeBoundsOf(config: Pick<AggregatorConfig, 'AGG_EVENT_TIME_MIN' | 'AGG_EVENT_TIME_MAX_FUTURE_MS' | 'AGG_EVENT_TIME_MAX_PAST_MS'>): EventTimeBounds {
  return {
    ...(config.AGG_EVENT_TIME_MIN === undefined ? {} : { min: config.AGG_EVENT_TIME_MIN }),
    ...(config.AGG_EVENT_TIME_MAX_FUTURE_MS === 0 ? {} : { maxFutureMs: config.AGG_EVENT_TIME_MAX_FUTURE_MS }),
    ...(config.AGG_EVENT_TIME_MAX_PAST_MS === 0 ? {} : { maxPastMs: config.AGG_EVENT_TIME_MAX_PAST_MS }),
  };
}
