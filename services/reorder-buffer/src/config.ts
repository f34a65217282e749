import { bytes, connectionFields, duration, int, list, loadConfig, num, oneOf, str, type Config } from '@convoy/config';
import type { LatePolicy } from '@convoy/ordering';

const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const topic = () => str({ pattern: TOPIC, expects: 'a Kafka topic name (letters, digits, . _ -)' });
const LATE_POLICIES: readonly LatePolicy[] = ['emit-flagged', 'route-late', 'drop'];
const PATH_SEGMENT = /^[^.\s]+$/;

/** Where a record attribute lives: the record key, a header, a payload field (dot path), or the record timestamp. */
export type AttributeSource =
  | { readonly kind: 'key' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'field'; readonly path: string };

/** Parses `key` / `timestamp` (when allowed), `header:<name>` or `field:<dot.path>`; undefined when invalid. */
export function parseSource(text: string, allow: readonly ('key' | 'timestamp')[]): AttributeSource | undefined {
  if (text === 'key' && allow.includes('key')) return { kind: 'key' };
  if (text === 'timestamp' && allow.includes('timestamp')) return { kind: 'timestamp' };
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (rest === '') return undefined;
  if (prefix === 'header') return { kind: 'header', name: rest };
  if (prefix === 'field' && rest.split('.').every((s) => PATH_SEGMENT.test(s))) return { kind: 'field', path: rest };
  return undefined;
}

const sourceCheck = (name: string, allow: readonly ('key' | 'timestamp')[], accepts: string) => (text: string) =>
  parseSource(text, allow) === undefined ? `${name}: expected ${accepts}, got ${JSON.stringify(text)}` : undefined;

/** Parses REORDER_LATE_POLICIES: a JSON object `{ "<stream key>": "<policy>" }`; a string is the problem. */
export function parseLatePolicies(text: string): Map<string, LatePolicy> | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `expected a JSON object {"<stream key>": "emit-flagged" | "route-late" | "drop"}, got ${JSON.stringify(text)}`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'expected a JSON object {"<stream key>": "<late policy>"}';
  const out = new Map<string, LatePolicy>();
  for (const [stream, policy] of Object.entries(parsed)) {
    if (!LATE_POLICIES.includes(policy as LatePolicy)) return `stream ${JSON.stringify(stream)}: expected emit-flagged | route-late | drop, got ${JSON.stringify(policy)}`;
    out.set(stream, policy as LatePolicy);
  }
  return out;
}

const DECIMAL_MS = /^-?(0|[1-9][0-9]*)$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/** `none` → undefined; decimal ms since the epoch or an ISO-8601 date-time → ms; else not valid. */
export function parseEventTimeMin(text: string): { ok: true; value: number | undefined } | { ok: false } {
  if (text === 'none') return { ok: true, value: undefined };
  if (DECIMAL_MS.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) ? { ok: true, value: ms } : { ok: false };
  }
  const ms = ISO_DATE_TIME.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(ms) ? { ok: false } : { ok: true, value: ms };
}

/**
 * The reorder buffer's environment. Parsed once at start; a bad value stops the service with a
 * message that names the variable and what it accepts.
 */
export const reorderSchema = {
  ...connectionFields,
  KAFKA_CLIENT_ID: str().default('convoy-reorder-buffer'),
  REORDER_INPUT_TOPIC: topic().default('convoy.unordered'),
  REORDER_OUTPUT_TOPIC: topic().default('convoy.reordered'),
  REORDER_LATE_TOPIC: topic().optional().describe('a topic name for late events under route-late (default <REORDER_OUTPUT_TOPIC>.late)'),
  REORDER_DLQ_TOPIC: topic().default('convoy.dlq'),
  REORDER_GROUP_ID: str().default('convoy-reorder-buffer'),
  REORDER_MODE: oneOf(['sequence', 'event-time']).default('sequence'),
  REORDER_STREAM_KEY: str()
    .default('key')
    .check(sourceCheck('REORDER_STREAM_KEY', ['key'], 'key, header:<name> or field:<dot.path>')),
  REORDER_SEQ_SOURCE: str()
    .default('header:convoy-seq')
    .check(sourceCheck('REORDER_SEQ_SOURCE', [], 'header:<name> or field:<dot.path>')),
  REORDER_EVENT_TIME_SOURCE: str()
    .default('timestamp')
    .check(sourceCheck('REORDER_EVENT_TIME_SOURCE', ['timestamp'], 'timestamp, header:<name> or field:<dot.path>')),
  REORDER_GAP_TIMEOUT_MS: duration({ min: 1 }).default(10_000).describe('a duration such as 500ms or 10s (sequence mode: longest wait for a missing seq)'),
  REORDER_SLACK: oneOf(['fixed', 'k-slack', 'aq-k-slack'])
    .default('fixed')
    .check((slack, config) =>
      slack !== 'fixed' && config.REORDER_MODE === 'sequence'
        ? `REORDER_SLACK=${slack} applies to REORDER_MODE=event-time only (sequence mode waits REORDER_GAP_TIMEOUT_MS for a missing seq)`
        : undefined,
    ),
  REORDER_SLACK_MS: duration({ min: 0 }).default(1_000).describe('a duration (fixed slack K, event-time ms)'),
  REORDER_MAX_K_MS: duration({ min: 0 }).default(60_000).describe('a duration (upper bound of K for k-slack and aq-k-slack)'),
  REORDER_AQ_EPSILON: num({ min: 0.000001, max: 0.999999 }).default(0.01).describe('a number in (0, 1): relative-error threshold ε'),
  REORDER_AQ_CONFIDENCE: num({ min: 0.000001, max: 0.999999 }).default(0.95).describe('a number in (0, 1): confidence δ'),
  REORDER_AQ_WINDOW_MS: duration({ min: 1 }).default(10_000).describe('a duration (AQ-K-slack query window size)'),
  REORDER_AQ_SLIDE_MS: duration({ min: 1 }).optional().describe('a duration (AQ-K-slack window slide; default the window size)'),
  REORDER_IDLE_FLUSH_MS: duration({ min: 1 }).default(5_000).describe('a duration (event-time mode: release a stream silent this long)'),
  /** Event-time mode: earliest accepted event time (absolute); `none` (default) turns the bound off. */
  REORDER_EVENT_TIME_MIN: str()
    .optional()
    .describe('ms since the epoch, an ISO-8601 date-time, or none')
    .check((text) =>
      parseEventTimeMin(text).ok ? undefined : `REORDER_EVENT_TIME_MIN: expected ms since the epoch, an ISO-8601 date-time (e.g. 2000-01-01T00:00:00Z) or none, got ${JSON.stringify(text)}`,
    ),
  /** Event-time mode: accepted event times (and watermarks) reach at most this far ahead of the processing clock; 0 turns the bound off. */
  REORDER_EVENT_TIME_MAX_FUTURE_MS: duration({ min: 0 }).default(60 * 60 * 1000).describe('a duration such as 1h; 0 turns the bound off'),
  /** Event-time mode: accepted event times reach at most this far behind the processing clock; 0 (default) turns the bound off. */
  REORDER_EVENT_TIME_MAX_PAST_MS: duration({ min: 0 }).default(0).describe('a duration such as 168h; 0 turns the bound off'),
  REORDER_LATE_POLICY: oneOf(['route-late', 'emit-flagged', 'drop']).default('route-late'),
  REORDER_LATE_POLICIES: str()
    .optional()
    .check((text) => {
      const parsed = parseLatePolicies(text);
      return typeof parsed === 'string' ? `REORDER_LATE_POLICIES: ${parsed}` : undefined;
    }),
  REORDER_NEVER_DROP: list()
    .optional()
    .describe('a comma-separated list of stream keys, or * for every stream')
    .check((streams, config) => neverDropProblem(streams, config.REORDER_LATE_POLICY as LatePolicy, config.REORDER_LATE_POLICIES as string | undefined)),
  REORDER_CAPACITY: int({ min: 1 }).default(100_000).describe('an integer >= 1 (held events per assigned partition)'),
  REORDER_CAPACITY_BYTES: bytes({ min: 1 }).default(64 * 1024 * 1024).describe('a size such as 64MiB (held bytes per assigned partition)'),
  REORDER_OVERFLOW: oneOf(['force-oldest', 'back-pressure']).default('force-oldest'),
  REORDER_TICK_INTERVAL_MS: duration({ min: 1 }).default(200),
  REORDER_RECOVERY_WINDOW: int({ min: 1 }).default(500).describe('an integer >= 1 (offsets read back per step from the end of an output partition on assignment)'),
  REORDER_K_STREAM_LABELS: int({ min: 0, max: 1000 }).default(20).describe('an integer 0..1000 (streams with their own K gauge series; the rest aggregate into stream="_other")'),
};

export type ReorderConfig = Config<typeof reorderSchema>;

function neverDropProblem(streams: readonly string[], fallback: LatePolicy, mapText: string | undefined): string | undefined {
  const map = mapText === undefined ? new Map<string, LatePolicy>() : parseLatePolicies(mapText);
  if (typeof map === 'string') return undefined; // reported on REORDER_LATE_POLICIES itself
  if (streams.includes('*')) {
    if (fallback === 'drop') return 'REORDER_NEVER_DROP=* forbids REORDER_LATE_POLICY=drop: use route-late or emit-flagged';
    for (const [stream, policy] of map) if (policy === 'drop') return `REORDER_NEVER_DROP=* forbids drop for stream ${JSON.stringify(stream)} in REORDER_LATE_POLICIES`;
    return undefined;
  }
  for (const stream of streams) {
    if ((map.get(stream) ?? fallback) === 'drop') {
      return `REORDER_NEVER_DROP: stream ${JSON.stringify(stream)} is never-drop but its late policy resolves to drop (${map.has(stream) ? 'REORDER_LATE_POLICIES' : 'REORDER_LATE_POLICY'}): use route-late or emit-flagged`;
    }
  }
  return undefined;
}

export function loadReorderConfig(env: Readonly<Record<string, string | undefined>> = process.env): ReorderConfig {
  return loadConfig(reorderSchema, env);
}

/** The late topic: REORDER_LATE_TOPIC, or `<output>.late`. */
export function lateTopicOf(config: Pick<ReorderConfig, 'REORDER_LATE_TOPIC' | 'REORDER_OUTPUT_TOPIC'>): string {
  return config.REORDER_LATE_TOPIC ?? `${config.REORDER_OUTPUT_TOPIC}.late`;
}

/** The event-time bounds of REORDER_EVENT_TIME_MIN / _MAX_FUTURE_MS / _MAX_PAST_MS (0 or none: that bound is off). */
export function eventTimeBoundsOf(
  config: Pick<ReorderConfig, 'REORDER_EVENT_TIME_MIN' | 'REORDER_EVENT_TIME_MAX_FUTURE_MS' | 'REORDER_EVENT_TIME_MAX_PAST_MS'>,
): { min?: number; maxFutureMs?: number; maxPastMs?: number } {
  const min = config.REORDER_EVENT_TIME_MIN === undefined ? undefined : parseEventTimeMin(config.REORDER_EVENT_TIME_MIN);
  return {
    ...(min?.ok === true && min.value !== undefined ? { min: min.value } : {}),
    ...(config.REORDER_EVENT_TIME_MAX_FUTURE_MS === 0 ? {} : { maxFutureMs: config.REORDER_EVENT_TIME_MAX_FUTURE_MS }),
    ...(config.REORDER_EVENT_TIME_MAX_PAST_MS === 0 ? {} : { maxPastMs: config.REORDER_EVENT_TIME_MAX_PAST_MS }),
  };
}

/** Late policy per stream key and the never-drop predicate, from validated config. */
export function latePolicies(config: Pick<ReorderConfig, 'REORDER_LATE_POLICY' | 'REORDER_LATE_POLICIES' | 'REORDER_NEVER_DROP'>): {
  policyOf: (stream: string) => LatePolicy;
  neverDrop: (stream: string) => boolean;
} {
  const parsed = config.REORDER_LATE_POLICIES === undefined ? new Map<string, LatePolicy>() : parseLatePolicies(config.REORDER_LATE_POLICIES);
  const map = typeof parsed === 'string' ? new Map<string, LatePolicy>() : parsed;
  const never = new Set(config.REORDER_NEVER_DROP ?? []);
  return {
    policyOf: (stream) => map.get(stream) ?? config.REORDER_LATE_POLICY,
    neverDrop: (stream) => never.has('*') || never.has(stream),
  };
}
