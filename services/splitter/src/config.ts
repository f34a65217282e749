import { z } from 'zod';
import { bytes, connectionFields, duration, field, int, loadConfig, oneOf, str, type Field, type ParseResult } from '@convoy/config';
import { compileRules, DEFAULT_DELIVERY_TOPIC, deliveryTierRules, type RuleSet } from './classify.ts';
import { eventTimeFromValue, parseEventTimeSource, parseKeySource, type EventTimeSource, type KeySource } from './sources.ts';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const topic = () => str({ pattern: TOPIC, expects: 'a Kafka topic name (letters, digits, . _ -)' });

/** A field whose text is turned into a value by `parse`, with the reason shown when it fails. */
function parsed<T>(expects: string, defaultValue: T, parse: (text: string) => ParseResult<T>): Field<T> {
  const base = field(z.any(), expects).default(defaultValue);
  return Object.freeze({ ...base, parse });
}

const keySource = parsed<KeySource>('key, header:<name> or field:<dot.path>', { kind: 'key' }, (text) => {
  const source = parseKeySource(text);
  return source === undefined ? { ok: false } : { ok: true, value: source };
});

const eventTimeSource = parsed<EventTimeSource>('timestamp, header:<name> or field:<dot.path>', { kind: 'timestamp' }, (text) => {
  const source = parseEventTimeSource(text);
  return source === undefined ? { ok: false } : { ok: true, value: source };
});

/** 2000-01-01T00:00:00Z: no real event of this system is older; catches 0, negatives and seconds mistaken for ms. */
export const DEFAULT_EVENT_TIME_MIN = Date.UTC(2000, 0, 1);

const eventTimeMin = parsed<number | undefined>('ms since the epoch, an ISO-8601 date-time, or none', DEFAULT_EVENT_TIME_MIN, (text) => {
  if (text === 'none') return { ok: true, value: undefined };
  const ms = eventTimeFromValue(text);
  return ms === undefined ? { ok: false } : { ok: true, value: ms };
});

const rules = parsed<RuleSet>(
  'delivery-tier or a JSON array of {"when": {"<dot.path>": {"eq"|"gte"|"gt"|"lt"|"lte"|"in": ...}}, "topic": "<name>"}',
  deliveryTierRules(),
  (text) => {
    const result = compileRules(text);
    return result.ok ? { ok: true, value: result.ruleSet } : { ok: false, detail: result.problem };
  },
);

export const splitterSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-splitter'),
  SPLITTER_INPUT_TOPIC: topic().default('convoy.input'),
  SPLITTER_GROUP_ID: str().default('convoy-splitter'),
  /** Transactional ids are `<prefix>-<topic>-<partition>`: keep it stable across restarts, unique per splitter deployment. */
  SPLITTER_TRANSACTIONAL_ID_PREFIX: str().default('convoy-splitter'),
  SPLITTER_MODE: oneOf(['hash', 'round-robin', 'classify']).default('hash'),
  SPLITTER_SUBSTREAMS_TOPIC: topic().default('convoy.substreams'),
  SPLITTER_SUBSTREAMS: int({ min: 1, max: 10_000 }).default(4),
  /** Epoch of a source partition without stored routing state (later epochs are started by the splitter itself). */
  SPLITTER_EPOCH: int({ min: 0 }).default(0),
  SPLITTER_STATE_TOPIC: topic().optional().describe('a topic name for the routing state (default <SPLITTER_SUBSTREAMS_TOPIC>.splitter-state)'),
  SPLITTER_DLQ_TOPIC: topic().default('convoy.dlq'),
  SPLITTER_KEY_SOURCE: keySource,
  SPLITTER_EVENT_TIME_SOURCE: eventTimeSource,
  SPLITTER_MAX_VALUE_BYTES: bytes({ min: 1 }).default(1024 * 1024),
  /**
   * The largest record the splitter writes (key + value + headers + batch overhead). Unset: the
   * smallest `max.message.bytes` of its output topics, read at start, minus 1 KiB for the headers
   * later stages add. Set above that smallest limit: the start fails naming this variable.
   */
  SPLITTER_MAX_RECORD_BYTES: bytes({ min: 1024 }).optional(),
  /** `dead-letter` (SPLITTER_SPOOFED_CONVOY_HEADER) or `strip` input records carrying convoy-* headers (other than convoy-error-*). */
  SPLITTER_CONVOY_HEADERS_ON_INPUT: oneOf(['dead-letter', 'strip']).default('dead-letter'),
  /** `dead-letter` (SPLITTER_NULL_VALUE) or `pass` records with a null value (tombstones). */
  SPLITTER_NULL_VALUES: oneOf(['dead-letter', 'pass']).default('dead-letter'),
  /** Earliest accepted event time (absolute); `none` turns the bound off. */
  SPLITTER_EVENT_TIME_MIN: eventTimeMin,
  /** Accepted event times reach at most this far ahead of the processing clock; 0 turns the bound off. */
  SPLITTER_EVENT_TIME_MAX_FUTURE_MS: duration({ min: 0 }).default(60 * 60 * 1000),
  /** Accepted event times reach at most this far behind the processing clock; 0 (default) turns the bound off. */
  SPLITTER_EVENT_TIME_MAX_PAST_MS: duration({ min: 0 }).default(0),
  SPLITTER_MARKER_INTERVAL_MS: duration({ min: 1 }).default(200),
  SPLITTER_MARKER_EVERY_EVENTS: int({ min: 1 }).default(1000),
  SPLITTER_MARKER_IDLE_INTERVAL_MS: duration({ min: 1 })
    .default(1000)
    .check((value, config) => {
      const interval = config['SPLITTER_MARKER_INTERVAL_MS'];
      return typeof interval === 'number' && value < interval
        ? `SPLITTER_MARKER_IDLE_INTERVAL_MS=${value} is below SPLITTER_MARKER_INTERVAL_MS=${interval}: expected at least the marker interval`
        : undefined;
    }),
  SPLITTER_RULES: rules,
  SPLITTER_DEFAULT_TOPIC: topic().default(DEFAULT_DELIVERY_TOPIC),
  /** Partitions of each classification topic the splitter creates (existing topics are left as they are). */
  SPLITTER_CLASSIFY_TOPIC_PARTITIONS: int({ min: 1 }).default(1),
  SPLITTER_MAX_BATCH_RECORDS: int({ min: 1 }).default(5000),
};

export type SplitterConfig = ReturnType<typeof loadSplitterConfig>;

/** The routing-state topic: SPLITTER_STATE_TOPIC, or `<substreams topic>.splitter-state`. */
export function stateTopicOf(config: Pick<SplitterConfig, 'SPLITTER_STATE_TOPIC' | 'SPLITTER_SUBSTREAMS_TOPIC'>): string {
  return config.SPLITTER_STATE_TOPIC ?? `${config.SPLITTER_SUBSTREAMS_TOPIC}.splitter-state`;
}

/** Parses the environment once; throws `CONFIG_INVALID` naming every bad variable. */
export const loadSplitterConfig = (env: Readonly<Record<string, string | undefined>> = process.env) => loadConfig(splitterSchema, env);
