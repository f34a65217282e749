/**
 * Where the splitter finds a record's customer ID and event time. Parsing is done once at start
 * (config); extraction is pure and per record.
 */

/** `key` (the record key's bytes), `header:<name>` or `field:<dot.path>` (payload field). */
export type AttributeSource =
  | { readonly kind: 'key' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'field'; readonly path: string };

export type KeySource = Exclude<AttributeSource, { kind: 'timestamp' }>;
export type EventTimeSource = Exclude<AttributeSource, { kind: 'key' }>;

const PATH_SEGMENT = /^[^.\s]+$/;

function parsePrefixed(text: string): AttributeSource | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const prefix = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (rest === '') return undefined;
  if (prefix === 'header') return { kind: 'header', name: rest };
  if (prefix === 'field') {
    return rest.split('.').every((segment) => PATH_SEGMENT.test(segment)) ? { kind: 'field', path: rest } : undefined;
  }
  return undefined;
}

/** Parses `key` | `header:<name>` | `field:<dot.path>`; undefined when the text is none of these. */
export function parseKeySource(text: string): KeySource | undefined {
  if (text === 'key') return { kind: 'key' };
  const parsed = parsePrefixed(text);
  return parsed?.kind === 'header' || parsed?.kind === 'field' ? parsed : undefined;
}

/** Parses `timestamp` | `header:<name>` | `field:<dot.path>`; undefined when the text is none of these. */
export function parseEventTimeSource(text: string): EventTimeSource | undefined {
  if (text === 'timestamp') return { kind: 'timestamp' };
  const parsed = parsePrefixed(text);
  return parsed?.kind === 'header' || parsed?.kind === 'field' ? parsed : undefined;
}

export function describeSource(source: AttributeSource): string {
  switch (source.kind) {
    case 'key':
    case 'timestamp':
      return source.kind;
    case 'header':
      return `header:${source.name}`;
    case 'field':
      return `field:${source.path}`;
  }
}

/**
 * Customer ID bytes from a payload field: strings as UTF-8 (as Java's StringSerializer writes
 * them, so a producer keyed by that string would hash the same bytes), integers and bigints as
 * their decimal text. Anything else (missing, empty, object, boolean, fraction) is no ID.
 */
export function customerIdFromValue(value: unknown): Buffer | undefined {
  if (typeof value === 'string') return value === '' ? undefined : Buffer.from(value, 'utf8');
  if (typeof value === 'number' && Number.isSafeInteger(value)) return Buffer.from(String(value), 'utf8');
  if (typeof value === 'bigint') return Buffer.from(value.toString(), 'utf8');
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;
const DECIMAL_MS = /^-?\d+$/;

/**
 * Event time in ms since the epoch from a header text or a payload field: a number of ms (a
 * decimal string counts) or an ISO-8601 date-time. Undefined when it is neither.
 */
export function eventTimeFromValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (DECIMAL_MS.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  if (!ISO_DATE.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
